"""The API key lives in this process's memory only, never in its environment.

Anything the agent runs can read its parent's environment: `/proc/<pid>/environ` shows the
block the process was started with, and removing a variable from `os.environ` does not change
that block. So a process that starts with a secret in its environment takes it out and executes
itself again (same pid, same stdio) without it, handing the secret over on an inherited pipe
that the new image reads and closes before it starts anything. Then no `/proc` file, no child
and no log of the server holds the key; the provider asks `held()` for it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

from agent_ls.lazy_logging import get_logger

log = get_logger(__name__)

SECRET_NAMES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
HANDOFF = "AGENT_LS_SECRET_FD"
"""The environment variable naming the pipe a secret-free re-execution reads its secrets from."""

_held: dict[str, str] = {}


def held(name: str) -> str | None:
    """A secret this process took out of its environment (None when it had none)."""
    return _held.get(name)


def hide(*, reexec: bool) -> None:
    """Take the secrets out of the environment; first thing in `main`, before any thread.

    With `reexec`, a process that started with a secret runs itself again without it, so even
    its `/proc/<pid>/environ` no longer shows it. Where that cannot be done (no `execv` on this
    platform, or it fails) the secret is still kept from `os.environ` and so from every child.
    """
    _held.update(_receive())
    found = {name: os.environ.pop(name) for name in SECRET_NAMES if name in os.environ}
    _held.update({name: value for name, value in found.items() if value})
    if found and reexec and os.name == "posix":
        _reexec(found)


def handoff_env(env: Mapping[str, str]) -> tuple[dict[str, str], int | None]:
    """An environment for a child agent-ls process that gets the held secrets by pipe.

    Returns the environment and the pipe's read end, to pass in `pass_fds` and close in the
    parent once the child has started (None when there is nothing to hand over).
    """
    clean = {k: v for k, v in env.items() if k not in SECRET_NAMES}
    if not _held:
        return clean, None
    fd = _pipe_with(_held)
    return {**clean, HANDOFF: str(fd)}, fd


def _receive() -> dict[str, str]:
    """The secrets a parent handed over (see `handoff_env`), read once; the pipe is closed."""
    raw = os.environ.pop(HANDOFF, None)
    if raw is None:
        return {}
    try:
        fd = int(raw)
        with os.fdopen(fd, "rb") as pipe:
            data = json.loads(pipe.read())
    except (ValueError, OSError) as exc:
        log.warning("could not read the secrets handed over on fd %s: %s", raw, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in SECRET_NAMES and isinstance(v, str) and v}


def _pipe_with(secrets: Mapping[str, str]) -> int:
    """A pipe holding `secrets` as JSON, write end closed; returns the inheritable read end.

    A key is far below the pipe's buffer (4 KiB at the least), so the write never blocks.
    """
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, json.dumps(dict(secrets)).encode())
    finally:
        os.close(write_end)
    os.set_inheritable(read_end, True)
    return read_end


def _reexec(secrets: Mapping[str, str]) -> None:
    fd = _pipe_with(secrets)
    env = {**os.environ, HANDOFF: str(fd)}
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execve(sys.executable, sys.orig_argv, env)
    except OSError as exc:  # keep serving: the key is out of os.environ, so no child gets it
        os.close(fd)
        log.warning("could not restart without the API key in the environment: %s", exc)
