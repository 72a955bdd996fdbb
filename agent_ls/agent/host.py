"""What the tools and the loop need from the outside world, and a plain implementation of it.

The service implements ``ToolHost`` on top of the editor (unsaved buffers, workspace/applyEdit,
permission prompts, checkpoints); ``DirectHost`` works on plain files and is what the tests, the
service's fallback path and its base class use.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from agent_ls.agent.events import AgentEvent, ToolCallStarted
from agent_ls.files.atomic import write_atomic
from agent_ls.files.regular import read_regular

PermissionCallback = Callable[[ToolCallStarted], bool | Awaitable[bool]]
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

        Raises FileNotFoundError, NotRegularFile (a directory, FIFO, ...), UnicodeDecodeError
        (not text) or OSError.
        """
        ...

    def open_buffers(self) -> Mapping[Path, str]:
        """The unsaved text of every file open in the editor, by real path."""
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


class DirectHost:
    """Plain files (regular ones only), atomic writes, a fixed or callback permission, events
    kept in a list."""

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
        return read_regular(path).decode("utf-8")

    def open_buffers(self) -> Mapping[Path, str]:
        return self.buffers

    async def write_text(self, path: Path, text: str) -> None:
        """Written off the event loop: the fsync may take a while."""
        await asyncio.to_thread(write_atomic, path, text.encode("utf-8"))
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
