"""The ToolHost of a turn in an editor: buffers first, applyEdit for open files, checkpoints.

Every write and delete goes through the turn's checkpoint recorder first, so the checkpoint
holds the content as it was before the agent touched it, whoever applies the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Literal, Protocol

from agent_ls.agent.events import AgentEvent, ToolCallStarted, UserMessage
from agent_ls.agent.host import DirectHost
from agent_ls.agent.permissions import Permissions
from agent_ls.checkpoints.recorder import TurnRecorder, read_disk

log = logging.getLogger(__name__)

PermissionAnswer = Literal["allow_once", "allow_always", "reject_once", "reject_always"]


class EditorPort(Protocol):
    """What a turn needs from the editor; the LSP server implements it."""

    def buffer_text(self, path: Path) -> str | None:
        """The open buffer's text (unsaved edits included), or None if it is not open."""
        ...

    async def apply_text(self, path: Path, text: str) -> bool:
        """Replace an open buffer's text via workspace/applyEdit; False if not applied."""
        ...

    async def ask_permission(self, session_id: str, call: ToolCallStarted) -> PermissionAnswer:
        """Ask the user; a dismissed prompt counts as reject_once."""
        ...

    def send_update(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        """Forward one event of the turn to the client."""
        ...

    def report_progress(self, session_id: str, message: str) -> None:
        """Say what the turn is doing now ($/progress report)."""
        ...


def editor_bytes(editor: EditorPort, path: Path) -> bytes | None:
    """What checkpoints record and compare: the open buffer, else the file; None if absent."""
    buffer = editor.buffer_text(path)
    if buffer is not None:
        return buffer.encode("utf-8")
    return read_disk(path)


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
        self.command_changes: list[str] = []

    def read_text(self, path: Path) -> str:
        buffer = self.editor.buffer_text(path)
        return buffer if buffer is not None else super().read_text(path)

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
        self.editor.send_update(self.session_id, self.turn_id, event)

    @contextlib.asynccontextmanager
    async def watch_command(self) -> AsyncIterator[None]:
        """Stat-scan the workspace around a shell command (off the event loop: it walks files)."""
        await asyncio.to_thread(self.recorder.command_started)
        try:
            yield
        finally:
            changes = await asyncio.to_thread(self.recorder.command_finished)
            self.command_changes += changes.not_restorable
