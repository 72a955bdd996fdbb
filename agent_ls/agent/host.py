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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agent_ls.agent.events import AgentEvent, ToolCallStarted
from agent_ls.files.atomic import write_atomic
from agent_ls.files.regular import read_regular

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

    async def run_command(
        self, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        return None

    def more_tools(self) -> Sequence[HostTool]:
        return ()
