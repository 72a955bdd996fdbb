"""Where stores live on disk: one directory per workspace folder under the store root."""

from __future__ import annotations

import hashlib
import os
import pwd
import re
from pathlib import Path

from .errors import NoStoreRoot

SESSIONS = "sessions"
TRASH = "trash"
CORRUPT = "corrupt"
LOCKS = "locks"
INDEX = "index.sqlite"

_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def store_root() -> Path:
    """``$AGENT_LS_HOME``, else ``$XDG_DATA_HOME/agent-ls``, else ``~/.local/share/agent-ls``.

    A relative ``XDG_DATA_HOME`` is ignored, as the XDG spec says.
    """
    home = os.environ.get("AGENT_LS_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "agent-ls"
    return user_home() / ".local" / "share" / "agent-ls"


def user_home() -> Path:
    """``$HOME``, else this user's home from the password database, if this user owns it.

    Never another user's folder: with ``HOME`` unset a process must not end up writing its
    sessions under root's home (or ``/``), so anything doubtful is refused with what to set.
    """
    home = os.environ.get("HOME")
    if home and os.path.isabs(home):
        return Path(home)
    uid = os.getuid()
    try:
        home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        home = ""
    fix = "set HOME, AGENT_LS_HOME or XDG_DATA_HOME to an absolute path"
    if not home or not os.path.isabs(home):
        raise NoStoreRoot(f"HOME is not set and user {uid} has no home directory; {fix}")
    try:
        owner = os.stat(home).st_uid
    except OSError as exc:
        reason = f"HOME is not set and {home} cannot be used ({exc.strerror})"
        raise NoStoreRoot(f"{reason}; {fix}") from None
    if owner != uid:
        raise NoStoreRoot(f"HOME is not set and {home} belongs to another user; {fix}")
    return Path(home)


def workspace_key(workspace: Path) -> str:
    """``<slug>-<8 hex of sha256(realpath)>``: readable, and unique per real folder."""
    real = os.path.realpath(workspace)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    slug = _SLUG_UNSAFE.sub("-", os.path.basename(real)).strip("-.")[:40] or "root"
    return f"{slug}-{digest}"


def workspaces_dir(root: Path) -> Path:
    """The folder that holds one directory per workspace."""
    return root / "workspaces"


def workspace_dir(root: Path, workspace: Path) -> Path:
    """The store directory of one workspace folder."""
    return workspaces_dir(root) / workspace_key(workspace)


def ensure_dir(path: Path, *, below: Path) -> Path:
    """Create ``path`` and its parents up from ``below`` with mode 0700 (umask cannot widen it)."""
    below.parent.mkdir(parents=True, exist_ok=True)
    chain = [path, *path.parents]
    for part in reversed(chain[: chain.index(below) + 1] if below in chain else [path]):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(part, 0o700)
    return path
