"""The checkpoints part of the core: list, diff and restore, against the editor's buffers.

Reads go through the editor port (an open buffer is what the user sees), and a restore edits
open buffers through the editor's applier so the user can undo it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_ls.checkpoints import restore as restoring
from agent_ls.checkpoints.diffs import FileDiff, file_diffs
from agent_ls.checkpoints.errors import CheckpointNotFound
from agent_ls.checkpoints.history import find_checkpoint
from agent_ls.checkpoints.listing import CheckpointSummary, list_checkpoints
from agent_ls.checkpoints.restore import DirectApplier, FileResult, Scope
from agent_ls.core.port import EditorPort, editor_bytes
from agent_ls.core.sessions import Folder, Sessions, uri_to_path
from agent_ls.sessions.errors import SessionNotFound
from agent_ls.sessions.session import Session


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did (or, for a dry run, would do) in `session_id`."""

    session_id: str
    applied: bool
    files: list[FileResult]
    undo_entry_id: str | None = None


class Checkpoints:
    """Checkpoint requests; a checkpoint is named by its session and its entry id."""

    def __init__(self, sessions: Sessions, editor: EditorPort) -> None:
        self.sessions = sessions
        self.editor = editor

    def _read_bytes(self, path: Path) -> bytes | None:
        return editor_bytes(self.editor, path)

    def list(self, session_id: str) -> list[CheckpointSummary]:
        session = self.sessions.locate(session_id).store.checkpoint_view(
            session_id
        )  # not the whole file
        return list_checkpoints(session, self._read_bytes)

    def _find(self, session_id: str, entry_id: str) -> tuple[Folder, Session]:
        try:
            folder = self.sessions.locate(session_id)
        except SessionNotFound:
            raise CheckpointNotFound(f"{session_id}:{entry_id}") from None
        return folder, folder.store.load(session_id)

    def diff(self, session_id: str, entry_id: str, uri: str | None) -> list[FileDiff]:
        folder, session = self._find(session_id, entry_id)
        _, entry = find_checkpoint(session, entry_id)
        paths = None if uri is None else {uri_to_path(uri).as_posix()}
        return file_diffs(entry, folder.blobs, paths=paths)

    async def restore(
        self, session_id: str, entry_id: str, *, scope: Scope, dry_run: bool, force: bool
    ) -> RestoreReport:
        """Revert a checkpoint (and every later one); the report names an undo checkpoint."""
        folder, session = self._find(session_id, entry_id)
        self.sessions.turns.ensure_idle(session_id)
        roots = self.sessions.roots
        plan = restoring.plan(
            session,
            entry_id,
            blobs=folder.blobs,
            roots=roots,
            read_bytes=self._read_bytes,
            scope=scope,
            force=force,
        )
        if dry_run:
            files = [FileResult(p.path, p.operation, p.result, p.reason) for p in plan.files]
            return RestoreReport(session_id, False, files)
        with folder.store.writer(session_id) as writer:
            result = await restoring.apply(
                plan,
                self.editor.applier() or DirectApplier(roots),
                folder.blobs,
                writer,
                "Agent: revert turn",
                read_bytes=self._read_bytes,
            )
        self.sessions.touched(folder)
        return RestoreReport(session_id, result.applied, result.files, result.undo_checkpoint_id)
