"""The ToolHost of a turn, on the editor port: buffers first, applyEdit for open files, checkpoints.

Every write and delete goes through the turn's checkpoint recorder first, so the checkpoint
holds the content as it was before the agent touched it, whoever applies the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from agent_ls.agent.events import AgentEvent, ToolCallStarted, ToolCallUpdated, UserMessage
from agent_ls.agent.host import CommandRun, DirectHost, HostTool
from agent_ls.agent.permissions import Permissions
from agent_ls.agent.tools import ToolError
from agent_ls.checkpoints.recorder import TurnRecorder, read_disk
from agent_ls.core.port import EditorPort

log = logging.getLogger(__name__)
APPLY_GRACE = 5.0
"""Seconds a cancelled turn still waits for the editor's answer to an edit it sent."""


class EditRefused(ToolError):
    """The editor answered an edit with `applied: false` (or failed): nothing was written."""


class TurnHost(DirectHost):
    """A DirectHost whose reads, writes, permission and events go through the editor."""

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        session_id: str,
        editor: EditorPort,
        recorder: TurnRecorder,
        permissions: Permissions,
    ) -> None:
        super().__init__(roots)
        self.session_id = session_id
        self.turn_id = ""
        self.editor = editor
        self.recorder = recorder
        self.permissions = permissions
        self._wrote: dict[str, tuple[str, str]] = {}

    def read_text(self, path: Path) -> str:
        buffer = self._buffer(path)
        return buffer if buffer is not None else super().read_text(path)

    def open_buffers(self) -> dict[Path, str]:
        """The editor's buffers, with this turn's own edits where the editor has not caught up."""
        buffers = self.editor.open_buffers()
        for real, (before, after) in self._wrote.items():
            if buffers.get(Path(real)) == before:
                buffers[Path(real)] = after
        return buffers

    def read_bytes(self, path: Path) -> bytes | None:
        buffer = self._buffer(path)
        return buffer.encode("utf-8") if buffer is not None else read_disk(path)

    def _buffer(self, path: Path) -> str | None:
        """The open buffer's text, or what this turn wrote to it while the editor's copy of the
        buffer has not caught up (its didChange is late or never comes)."""
        buffer = self.editor.buffer_text(path)
        wrote = self._wrote.get(os.path.realpath(path))
        if wrote is not None and buffer == wrote[0]:
            return wrote[1]
        return buffer

    async def write_text(self, path: Path, text: str) -> None:
        """An open file is edited in the editor, or, if the editor cannot take edits, on disk;
        an edit the editor refuses is not written at all (the model gets a tool error)."""
        self.recorder.before_change(path)
        buffer = self.editor.buffer_text(path)
        if buffer is None:
            await super().write_text(path, text)
            return
        applied = await self._apply(path, text, buffer)
        if not applied:  # the client cannot apply edits: the disk, behind an unchanged buffer
            await super().write_text(path, text)
        self._wrote[os.path.realpath(path)] = (buffer, text)

    async def _apply(self, path: Path, text: str, buffer: str) -> bool:
        """`apply_text`; a turn cancelled meanwhile still learns (briefly) whether it landed."""
        apply = asyncio.ensure_future(self.editor.apply_text(path, text))
        try:
            return await asyncio.shield(apply)
        except asyncio.CancelledError:
            done, _ = await asyncio.wait({apply}, timeout=APPLY_GRACE)
            if apply in done and not apply.cancelled() and apply.exception() is None:
                self._wrote[os.path.realpath(path)] = (buffer, text)
            raise

    async def delete_file(self, path: Path) -> None:
        self.recorder.before_change(path)
        await super().delete_file(path)
        self._wrote.pop(os.path.realpath(path), None)

    async def request_permission(self, call: ToolCallStarted) -> bool:
        answer = await self.editor.ask_permission(self.session_id, call)
        allow = answer.startswith("allow")
        if answer.endswith("always"):
            self.permissions.remember(call, allow)
        return allow

    async def emit(self, event: AgentEvent) -> None:
        if isinstance(event, UserMessage):
            self.turn_id = event.entry_id
        if isinstance(event, ToolCallStarted):
            self.editor.report_progress(self.session_id, event.title)
        if isinstance(event, ToolCallUpdated) and event.status == "in_progress":
            await self.editor.before_tool(self.session_id, event.locations)
        self.editor.send_update(self.session_id, self.turn_id, event)

    async def run_command(
        self, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        return await self.editor.run_command(self.session_id, command, cwd, env, timeout)

    def more_tools(self) -> Sequence[HostTool]:
        return self.editor.more_tools(self.session_id)

    @contextlib.asynccontextmanager
    async def watch_command(self) -> AsyncIterator[None]:
        """Stat-scan the workspace around a shell command (off the event loop: it walks files)."""
        await asyncio.to_thread(self.recorder.command_started)
        try:
            yield
        finally:
            await asyncio.to_thread(self.recorder.command_finished)
