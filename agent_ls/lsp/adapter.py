"""The LSP adapter: the core's editor port over LSP (buffers, applyEdit, permission, updates,
progress).

Open documents are edited through `workspace/applyEdit` so the change lands in the buffer and the
editor's undo works; files that are not open are written directly, so the disk (what the agent's
shell commands and the user's tools see) is never behind an invisible, unsaved buffer.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agent_ls.agent.events import AgentEvent, TextChunk, ThoughtChunk, ToolCallStarted
from agent_ls.agent.host import CommandRun, HostTool
from agent_ls.agent.permissions import prompt_options, prompt_text
from agent_ls.checkpoints.restore import DirectApplier, FileChange
from agent_ls.core.port import PermissionAnswer, as_buffer_text
from agent_ls.core.turn_host import EditRefused
from agent_ls.lsp import protocol
from agent_ls.lsp.params import plain

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer
    from pygls.workspace import TextDocument

log = logging.getLogger(__name__)
SYNC_TIMEOUT = 2.0
RESTORE_EDIT_TIMEOUT = 30.0
COALESCE_SECONDS = 0.016


class LspAdapter:
    """Implements the core's `EditorPort` on a pygls server."""

    def __init__(self, server: LanguageServer, *, permission_ui: bool = False) -> None:
        self.server = server
        self.permission_ui = permission_ui
        self.progress_tokens: dict[str, str | int] = {}
        self.roots: Sequence[Path] = ()
        self._chunks = ChunkCoalescer(self._notify)

    # -- documents -----------------------------------------------------------------------------

    def document(self, path: Path) -> TextDocument | None:
        """The open document for `path` (compared as real paths: URIs differ in spelling)."""
        wanted = os.path.realpath(path)
        for doc in self.server.workspace.text_documents.values():
            if doc.uri.startswith("file:") and os.path.realpath(doc.path) == wanted:
                return doc
        return None

    def buffer_text(self, path: Path) -> str | None:
        doc = self.document(path)
        return None if doc is None else doc.source

    async def before_tool(self, session_id: str, paths: Sequence[str]) -> None:
        """Open buffers are synced by didChange: nothing to fetch."""

    async def run_command(
        self, session_id: str, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        """LSP has no terminals: the tool runs the command itself."""
        return None

    def more_tools(self, session_id: str) -> Sequence[HostTool]:
        return ()

    def open_buffers(self) -> dict[Path, str]:
        return {
            Path(os.path.realpath(doc.path)): doc.source
            for doc in self.server.workspace.text_documents.values()
            if doc.uri.startswith("file:")
        }

    @property
    def can_apply_edit(self) -> bool:
        workspace = self.server.client_capabilities.workspace
        return bool(workspace and workspace.apply_edit)

    def _replace_all(self, doc: TextDocument, text: str) -> lsp.TextDocumentEdit:
        """One edit replacing the whole buffer, pinned to the version we last saw."""
        lines = doc.lines
        if not lines:
            end = lsp.Position(line=0, character=0)
        elif lines[-1].endswith(("\n", "\r")):
            end = lsp.Position(line=len(lines), character=0)
        else:
            units = doc.position_codec.client_num_units(lines[-1])
            end = lsp.Position(line=len(lines) - 1, character=units)
        edit = lsp.TextEdit(
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=end), new_text=text
        )
        return lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                uri=doc.uri, version=doc.version
            ),
            edits=[edit],
        )

    async def _apply(self, edits: list[lsp.TextDocumentEdit], label: str) -> bool:
        params = lsp.ApplyWorkspaceEditParams(
            edit=lsp.WorkspaceEdit(document_changes=edits), label=label
        )
        return await self._applied(params) is None

    async def _applied(self, params: lsp.ApplyWorkspaceEditParams) -> str | None:
        """None when the client applied the edit, else why not."""
        try:
            # shield: pygls 2.1.1 raises on a late reply to a cancelled request (#621)
            result = await asyncio.shield(self.server.workspace_apply_edit_async(params))
        except Exception as exc:
            log.warning("workspace/applyEdit failed: %s", exc)
            return f"the editor failed to apply it ({exc})"
        if not result.applied:
            log.warning("workspace/applyEdit not applied: %s", result.failure_reason)
            return f"the editor refused it ({result.failure_reason or 'no reason given'})"
        return None

    async def apply_text(self, path: Path, text: str) -> bool:
        doc = self.document(path)
        if doc is None or not self.can_apply_edit:
            return False
        params = lsp.ApplyWorkspaceEditParams(
            edit=lsp.WorkspaceEdit(document_changes=[self._replace_all(doc, text)]),
            label=f"Agent: edit {path.name}",
        )
        refused = await self._applied(params)
        if refused is not None:
            raise EditRefused(f"{path.name} is open in the editor and {refused}; it is unchanged")
        await self._synced(path, text)
        return True

    async def _synced(self, path: Path, text: str, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait for the editor's didChange of an applied edit (clients may debounce it).

        Later reads and the turn's checkpoint come from our copy of the buffer, so it must hold
        the edit before the turn goes on. The copy is never patched here: the client's own
        (incremental) didChange is relative to its old text and would be applied twice.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            doc = self.document(path)
            if doc is None or doc.source == text:
                return
            await asyncio.sleep(0.005)
        log.warning("no didChange for %s within %.1fs of an applied edit", path, timeout)

    def applier(self) -> EditorApplier | None:
        return EditorApplier(self) if self.can_apply_edit else None

    # -- the user ------------------------------------------------------------------------------

    async def ask_permission(self, session_id: str, call: ToolCallStarted) -> PermissionAnswer:
        try:
            if self.permission_ui:
                return await self._ask_panel(session_id, call)
            return await self._ask_message(call)
        except Exception as exc:  # no answer is a no
            log.warning("permission request failed: %s", exc)
            return "reject_once"

    async def _ask_panel(self, session_id: str, call: ToolCallStarted) -> PermissionAnswer:
        params = protocol.permission_request(session_id, call)
        reply = plain(
            await asyncio.shield(
                self.server.protocol.send_request_async(protocol.REQUEST_PERMISSION, params)
            )
        )
        return protocol.permission_choice(reply) or "reject_once"  # type: ignore[return-value]

    async def _ask_message(self, call: ToolCallStarted) -> PermissionAnswer:
        options = prompt_options(call)
        params = lsp.ShowMessageRequestParams(
            type=lsp.MessageType.Warning,
            message=await asyncio.to_thread(prompt_text, call),  # an edit's line counts: a diff
            actions=[lsp.MessageActionItem(title=o["name"]) for o in options],
        )
        chosen = await asyncio.shield(self.server.window_show_message_request_async(params))
        for option in options:
            if chosen is not None and chosen.title == option["name"]:
                return option["kind"]  # type: ignore[return-value]
        return "reject_once"

    # -- notifications -------------------------------------------------------------------------

    def send_update(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        if isinstance(event, TextChunk | ThoughtChunk):
            self._chunks.add(session_id, turn_id, event)
            return
        self._chunks.flush(session_id)
        self._notify(session_id, turn_id, event)

    def _notify(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        params = protocol.update_to_wire(session_id, turn_id, event)
        if params is not None:
            self.server.protocol.notify(protocol.SESSION_UPDATE, params)

    def list_changed(self) -> None:
        self.server.protocol.notify(protocol.SESSION_LIST_CHANGED, {})

    def begin_progress(self, session_id: str, token: str | int | None) -> None:
        if token is None:
            return
        self.progress_tokens[session_id] = token
        self.server.work_done_progress.begin(
            token, lsp.WorkDoneProgressBegin(title="Agent", message="thinking", cancellable=True)
        )

    def report_progress(self, session_id: str, message: str) -> None:
        token = self.progress_tokens.get(session_id)
        if token is not None:
            self.server.work_done_progress.report(
                token, lsp.WorkDoneProgressReport(message=message)
            )

    def end_progress(self, session_id: str, message: str) -> None:
        self._chunks.flush(session_id)  # every update goes out before the prompt's result
        token = self.progress_tokens.pop(session_id, None)
        if token is not None:
            self.server.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))


@dataclass
class _Held:
    """Chunks of one kind held for one session until the next send."""

    turn_id: str
    kind: type[TextChunk] | type[ThoughtChunk]
    parts: list[str] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class ChunkCoalescer:
    """Sends the first text chunk at once, then at most one chunk update per session per
    COALESCE_SECONDS.

    Twenty fast streams are thousands of notifications a second; the client has to read every
    one before the answer to its next request, and each costs the server a JSON encode. Joining
    what arrives within a frame (16 ms) keeps replies live and the connection responsive.
    """

    def __init__(self, send: Callable[[str, str, AgentEvent], None]) -> None:
        self._send = send
        self._held: dict[str, _Held] = {}
        self._last_sent: dict[str, float] = {}

    def add(self, session_id: str, turn_id: str, chunk: TextChunk | ThoughtChunk) -> None:
        held = self._held.get(session_id)
        if held is not None and (held.kind is not type(chunk) or held.turn_id != turn_id):
            self.flush(session_id)
            held = None
        loop = asyncio.get_running_loop()
        wait = COALESCE_SECONDS - (loop.time() - self._last_sent.get(session_id, -1e9))
        if held is None and wait <= 0:
            self._last_sent[session_id] = loop.time()
            self._send(session_id, turn_id, chunk)
            return
        if held is None:
            held = self._held[session_id] = _Held(turn_id, type(chunk))
            held.timer = loop.call_later(wait, self.flush, session_id)
        held.parts.append(chunk.text)

    def flush(self, session_id: str) -> None:
        """Send what is held for the session now (before any other update, and at turn end)."""
        held = self._held.pop(session_id, None)
        if held is None:
            return
        if held.timer is not None:
            held.timer.cancel()
        self._last_sent[session_id] = asyncio.get_running_loop().time()
        self._send(session_id, held.turn_id, held.kind("".join(held.parts)))


class EditorApplier:
    """A restore's writes: open buffers in one labelled applyEdit (undoable), the rest on disk."""

    def __init__(self, editor: LspAdapter, timeout: float = RESTORE_EDIT_TIMEOUT) -> None:
        self.editor = editor
        self.timeout = timeout

    async def apply(self, changes: Sequence[FileChange], label: str) -> list[bool | str]:
        results: list[bool | str] = [False] * len(changes)
        edits: list[lsp.TextDocumentEdit] = []
        in_editor: list[int] = []
        on_disk: list[int] = []
        for i, change in enumerate(changes):
            doc = self.editor.document(change.path)
            text = as_buffer_text(change.new_bytes)
            if doc is not None and text is not None:
                edits.append(self.editor._replace_all(doc, text))
                in_editor.append(i)
            else:
                on_disk.append(i)
        if edits:
            try:
                applied: bool | str = await asyncio.wait_for(
                    self.editor._apply(edits, label), self.timeout
                )
            except TimeoutError:
                applied = (
                    f"the editor did not answer the edit within {self.timeout:.0f} s; "
                    "check the file (the restore's undo checkpoint holds what it had), then retry"
                )
            applied = applied or "the editor refused it"
            for i in in_editor:
                results[i] = applied
                if applied is True:
                    await self.editor._synced(
                        changes[i].path, as_buffer_text(changes[i].new_bytes) or ""
                    )
        if on_disk:
            direct = DirectApplier(self.editor.roots)
            for i, outcome in zip(
                on_disk, await direct.apply([changes[i] for i in on_disk], label), strict=True
            ):
                results[i] = outcome
        return results
