"""The ToolHost of a turn, on the editor port: buffers first, applyEdit for open files, checkpoints.

Every write and delete goes through the turn's checkpoint recorder first, so the checkpoint
holds the content as it was before the agent touched it, whoever applies the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from agent_ls.agent.events import AgentEvent, ToolCallStarted, ToolCallUpdated, UserMessage
from agent_ls.agent.host import CommandRun, DirectHost, HostTool
from agent_ls.agent.permissions import Permissions
from agent_ls.checkpoints.recorder import TurnRecorder
from agent_ls.core.port import EditorPort, editor_bytes

log = logging.getLogger(__name__)


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

    def read_text(self, path: Path) -> str:
        buffer = self.editor.buffer_text(path)
        return buffer if buffer is not None else super().read_text(path)

    def open_buffers(self) -> dict[Path, str]:
        return self.editor.open_buffers()

    def read_bytes(self, path: Path) -> bytes | None:
        return editor_bytes(self.editor, path)

    async def write_text(self, path: Path, text: str) -> None:
        self.recorder.before_change(path)
        if self.editor.buffer_text(path) is not None and await self.editor.apply_text(path, text):
            return
        await super().write_text(path, text)

    async def delete_file(self, path: Path) -> None:
        self.recorder.before_change(path)
        await super().delete_file(path)

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
