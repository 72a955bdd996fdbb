"""The editor port: the one seam between the core and whatever front door drives it.

The LSP adapter (`lsp/adapter.py`) and the ACP editor (`acp/editor.py`) implement it. The core
calls nothing else of the outside world, so it runs in tests with a plain object in its place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

from agent_ls.agent.events import AgentEvent, ToolCallStarted
from agent_ls.agent.host import CommandRun, HostTool
from agent_ls.checkpoints.recorder import read_disk
from agent_ls.checkpoints.restore import Applier

PermissionAnswer = Literal["allow_once", "allow_always", "reject_once", "reject_always"]


class EditorPort(Protocol):
    """What the core needs from the editor it serves."""

    def buffer_text(self, path: Path) -> str | None:
        """The open buffer's text (unsaved edits included), or None if it is not open."""
        ...

    async def before_tool(self, session_id: str, paths: Sequence[str]) -> None:
        """A tool is about to use these files: an editor whose buffers live in the client
        (ACP's fs/read_text_file) fetches them now, as `buffer_text` cannot wait."""
        ...

    async def run_command(
        self, session_id: str, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        """Run a shell command in the client's terminal; None when it has none."""
        ...

    def more_tools(self, session_id: str) -> Sequence[HostTool]:
        """Tools the client brings to the session's turns (ACP's MCP servers)."""
        ...

    def open_buffers(self) -> dict[Path, str]:
        """Every open buffer's text, by real path (grep searches unsaved edits too)."""
        ...

    async def apply_text(self, path: Path, text: str) -> bool:
        """Replace an open buffer's text through the editor; False if not applied."""
        ...

    async def ask_permission(self, session_id: str, call: ToolCallStarted) -> PermissionAnswer:
        """Ask the user; a dismissed prompt counts as reject_once."""
        ...

    def send_update(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        """Forward one event of the turn to the client."""
        ...

    def report_progress(self, session_id: str, message: str) -> None:
        """Say what the turn is doing now."""
        ...

    def list_changed(self) -> None:
        """Tell the client another process changed the sessions."""
        ...

    def applier(self) -> Applier | None:
        """The editor's applier for restores (undoable buffer edits), if the client has one."""
        ...


def editor_bytes(editor: EditorPort, path: Path) -> bytes | None:
    """What checkpoints record and compare: the open buffer, else the file; None if absent."""
    buffer = editor.buffer_text(path)
    if buffer is not None:
        return buffer.encode("utf-8")
    return read_disk(path)


def as_buffer_text(data: bytes | None) -> str | None:
    """A restore's new content as a buffer's text; None (write it to disk instead) for a delete
    or for binary content, which an editor buffer cannot hold."""
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
