"""What the tools and the loop need from the outside world, and a plain implementation of it.

The service implements ``ToolHost`` on top of the editor (unsaved buffers, workspace/applyEdit,
permission prompts, checkpoints); ``DirectHost`` works on plain files and is what the tests, the
service's fallback path and its base class use.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agent_ls.agent.events import AgentEvent, ToolCallStarted

PermissionCallback = Callable[[ToolCallStarted], bool | Awaitable[bool]]


@dataclass(frozen=True)
class HostTool:
    """A tool the host brings beside the built-in ones (an MCP server's, over ACP).

    `call` returns the text for the model and whether it is an error. The call goes through the
    same permission flow as the built-in tools (its kind is "other").
    """

    name: str
    description: str
    schema: Mapping[str, Any]
    title: str
    call: Callable[[Mapping[str, Any]], Awaitable[tuple[str, bool]]]

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.schema}


@dataclass(frozen=True)
class CommandRun:
    """A shell command the host ran where the user sees it (an editor's terminal)."""

    output: str
    exit_code: int | None
    signal: str | None = None
    timed_out: bool = False


EventCallback = Callable[[AgentEvent], Awaitable[None] | None]


@runtime_checkable
class ToolHost(Protocol):
    """The seam between the agent and its surroundings (editor, files, user)."""

    @property
    def roots(self) -> Sequence[Path]:
        """Workspace folders; relative paths resolve against the first."""
        ...

    def read_text(self, path: Path) -> str:
        """The text of ``path``: the editor's buffer if open, else the file.

        Raises FileNotFoundError, IsADirectoryError, UnicodeDecodeError (not text) or OSError.
        """
        ...

    async def write_text(self, path: Path, text: str) -> None:
        """Create or replace ``path`` (parents created); the checkpoint snapshot comes first."""
        ...

    async def delete_file(self, path: Path) -> None:
        """Delete ``path``; the checkpoint snapshot comes first."""
        ...

    async def request_permission(self, call: ToolCallStarted) -> bool:
        """Ask the user whether this tool call may run."""
        ...

    async def emit(self, event: AgentEvent) -> None:
        """Deliver one event of the turn, in order."""
        ...

    def watch_command(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Wrap a shell command so what it changed on disk can be recorded."""
        ...

    async def run_command(
        self, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        """Run the command in the editor's terminal (`env`: variables to set); None when the
        editor has none and the tool runs it itself."""
        ...

    def more_tools(self) -> Sequence[HostTool]:
        """Tools the host brings for this turn (none by default)."""
        ...


class DirectHost:
    """Plain files, atomic writes, a fixed or callback permission, events kept in a list."""

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        permission: bool | PermissionCallback = True,
        on_event: EventCallback | None = None,
        buffers: Mapping[Path, str] | None = None,
    ) -> None:
        self._roots = [Path(os.path.realpath(root)) for root in roots]
        self._permission = permission
        self._on_event = on_event
        self.buffers: dict[Path, str] = {
            Path(os.path.realpath(p)): t for p, t in (buffers or {}).items()
        }
        self.events: list[AgentEvent] = []
        self.permission_requests: list[ToolCallStarted] = []

    @property
    def roots(self) -> Sequence[Path]:
        return self._roots

    def read_text(self, path: Path) -> str:
        if path in self.buffers:
            return self.buffers[path]
        return path.read_bytes().decode("utf-8")

    async def write_text(self, path: Path, text: str) -> None:
        atomic_write(path, text.encode("utf-8"))
        if path in self.buffers:
            self.buffers[path] = text

    async def delete_file(self, path: Path) -> None:
        path.unlink()
        self.buffers.pop(path, None)

    async def request_permission(self, call: ToolCallStarted) -> bool:
        self.permission_requests.append(call)
        if isinstance(self._permission, bool):
            return self._permission
        answer = self._permission(call)
        return bool(await answer if inspect.isawaitable(answer) else answer)

    async def emit(self, event: AgentEvent) -> None:
        self.events.append(event)
        if self._on_event is not None:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result

    @contextlib.asynccontextmanager
    async def watch_command(self) -> AsyncIterator[None]:
        yield

    async def run_command(
        self, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        return None

    def more_tools(self) -> Sequence[HostTool]:
        return ()


@functools.cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it, which is not thread-safe)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, keeping the old file's mode, so readers never see a torn
    file and an interrupted write leaves the old content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
