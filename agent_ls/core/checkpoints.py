"""The checkpoints part of the core: list, diff, restore and revert hunks, against the editor's
buffers (rewind, the same restore keyed by a user message, is in `core/rewind.py`).

Reads see open buffers (what the user sees), and a restore edits open buffers through the
editor's applier so the user can undo it there. Plans, merges and the session's writes run in
worker threads, on a snapshot of the buffers taken on the loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from agent_ls.checkpoints import restore as restoring
from agent_ls.checkpoints.diffs import FileDiff, file_diffs
from agent_ls.checkpoints.errors import CheckpointNotFound
from agent_ls.checkpoints.history import SessionView, find_checkpoint
from agent_ls.checkpoints.listing import CheckpointSummary, list_checkpoints
from agent_ls.checkpoints.recorder import ReadBytes, read_disk
from agent_ls.checkpoints.restore import DirectApplier, FileResult, RestorePlan, Scope
from agent_ls.core.port import EditorPort, editor_bytes
from agent_ls.core.sessions import Folder, Sessions, uri_to_path
from agent_ls.sessions.errors import SessionNotFound
from agent_ls.sessions.session import Session

Planner = Callable[[SessionView, Folder, ReadBytes], RestorePlan]
"""Computes a plan from the session (as the writer holds it), its folder and a reader."""


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did (or, for a dry run or a refused plan, would do) in `session_id`.

    `moved_conversation` says `leaf_entry_id` is meaningful (None: before the first message).
    """

    session_id: str
    applied: bool
    files: list[FileResult]
    undo_entry_id: str | None = None
    leaf_entry_id: str | None = None
    moved_conversation: bool = False


def paths_of(uris: Collection[str] | None) -> set[str] | None:
    """The recorded (absolute POSIX) paths that `files: [uri]` names."""
    return None if uris is None else {uri_to_path(u).as_posix() for u in uris}


class Checkpoints:
    """Checkpoint requests; a checkpoint is named by its session and its entry id."""

    def __init__(self, sessions: Sessions, editor: EditorPort) -> None:
        self.sessions = sessions
        self.editor = editor

    def _read_bytes(self, path: Path) -> bytes | None:
        return editor_bytes(self.editor, path)

    def _snapshot_reader(self) -> ReadBytes:
        """A reader for worker threads: the open buffers as they are now, else the disk."""
        buffers = self.editor.open_buffers()

        def read(path: Path) -> bytes | None:
            text = buffers.get(Path(os.path.realpath(path)))
            return read_disk(path) if text is None else text.encode("utf-8")

        return read

    def list(self, session_id: str) -> list[CheckpointSummary]:
        session = self.sessions.locate(session_id).store.checkpoint_view(
            session_id
        )  # not the whole file
        return list_checkpoints(session, self._read_bytes)

    def _folder(self, session_id: str, entry_id: str) -> Folder:
        try:
            return self.sessions.locate(session_id)
        except SessionNotFound:
            raise CheckpointNotFound(f"{session_id}:{entry_id}") from None

    def _find(self, session_id: str, entry_id: str) -> tuple[Folder, Session]:
        folder = self._folder(session_id, entry_id)
        return folder, folder.store.load(session_id)

    def diff(self, session_id: str, entry_id: str, uri: str | None) -> list[FileDiff]:
        folder, session = self._find(session_id, entry_id)
        _, entry = find_checkpoint(session, entry_id)
        paths = None if uri is None else {uri_to_path(uri).as_posix()}
        return file_diffs(entry, folder.blobs, paths=paths)

    async def restore(
        self,
        session_id: str,
        entry_id: str,
        *,
        scope: Scope,
        dry_run: bool,
        force: bool,
        partial: bool = False,
        uris: Collection[str] | None = None,
    ) -> RestoreReport:
        """Revert a checkpoint (and every later one), all or nothing unless `force`/`partial`;
        the report names the one undo checkpoint that puts back every file written."""
        folder = self._folder(session_id, entry_id)
        paths = paths_of(uris)

        def planner(session: SessionView, folder: Folder, read: ReadBytes) -> RestorePlan:
            return restoring.plan(
                session,
                entry_id,
                blobs=folder.blobs,
                roots=self.sessions.roots,
                read_bytes=read,
                scope=scope,
                force=force,
                partial=partial,
                paths=paths,
            )

        return await self.run(folder, session_id, planner, dry_run, "Agent: revert turn")

    async def revert_hunks(
        self, session_id: str, entry_id: str, uri: str, hunks: Collection[int], *, dry_run: bool
    ) -> RestoreReport:
        """Undo some hunks of one file of one checkpoint, keeping every other change."""
        folder = self._folder(session_id, entry_id)
        path = uri_to_path(uri).as_posix()

        def planner(session: SessionView, folder: Folder, read: ReadBytes) -> RestorePlan:
            roots = self.sessions.roots
            return restoring.plan_hunks(
                session, entry_id, path, hunks, blobs=folder.blobs, roots=roots, read_bytes=read
            )

        return await self.run(folder, session_id, planner, dry_run, "Agent: revert hunks")

    async def run(
        self, folder: Folder, session_id: str, planner: Planner, dry_run: bool, label: str
    ) -> RestoreReport:
        """Plan (under the session's writer unless a dry run), then apply all or nothing."""
        self.sessions.turns.ensure_idle(session_id)
        roots = self.sessions.roots
        if dry_run:
            session = await asyncio.to_thread(folder.store.load, session_id)
            plan = await asyncio.to_thread(planner, session, folder, self._snapshot_reader())
            return _report(plan, restoring.unapplied(plan))
        writer = await asyncio.to_thread(folder.store.writer, session_id)
        try:
            plan = await asyncio.to_thread(planner, writer.session, folder, self._snapshot_reader())
            result = await restoring.apply(
                plan,
                self.editor.applier() or DirectApplier(roots),
                folder.blobs,
                writer,
                label,
                read_bytes=self._snapshot_reader(),
            )
        finally:
            await asyncio.to_thread(writer.close)
        self.sessions.touched(folder)
        return _report(plan, result)


def _report(plan: RestorePlan, result: restoring.RestoreResult) -> RestoreReport:
    return RestoreReport(
        plan.session_id,
        result.applied,
        result.files,
        result.undo_checkpoint_id,
        plan.leaf_target if plan.moves_conversation else None,
        plan.moves_conversation,
    )
