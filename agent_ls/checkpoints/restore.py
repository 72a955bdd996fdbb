"""Restore and rewind: plan per-file actions, merges and conflicts; then, all or nothing,
record one undo checkpoint and apply."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from agent_ls.checkpoints.blobs import BlobStore, sha256_hex
from agent_ls.checkpoints.entries import (
    UNKNOWN,
    Operation,
    checkpoint_entry,
    file_records,
    operation_of,
)
from agent_ls.checkpoints.errors import (
    BlobCorrupt,
    BlobMissing,
    CheckpointError,
    NotInCheckpoint,
    OutsideWorkspace,
)
from agent_ls.checkpoints.history import (
    Entry,
    SessionView,
    chain,
    conversation_target,
    find_checkpoint,
    rewind_point,
    touched,
)
from agent_ls.checkpoints.hunks import hunks, revert_hunks
from agent_ls.checkpoints.merge import MergeUnavailable, is_text, merge3
from agent_ls.checkpoints.recorder import ReadBytes, read_disk
from agent_ls.files.atomic import write_atomic
from agent_ls.files.confine import Confinement

Scope = Literal["files", "conversation", "both"]
Result = Literal["restored", "merged", "conflict", "unchanged", "failed", "skipped"]
SCOPES: tuple[Scope, ...] = ("files", "conversation", "both")
CONFLICT = "changed since the checkpoint"
OVERLAP = "changed since the checkpoint, and those edits overlap the agent's"


@dataclass
class FilePlan:
    """One path of a restore: what it will do and why.

    `target` is the content to write back (None: delete the file), `expected` the content the
    reverted turns left, `current` what is there now. When the user changed the file since,
    `write` holds the three-way merge that keeps those edits (result "merged").
    """

    path: str
    operation: Operation
    result: Result
    reason: str | None = None
    target: str | None = None
    expected: str | None = None
    current: str | None = None
    write: bytes | None = None


@dataclass
class RestorePlan:
    """A restore computed but not applied (a dry run, or a refused plan, returns just this).

    `undo_turn_id` names the undo checkpoint's turn: `restore-<checkpoint>`, `rewind-<entry>`.
    """

    session_id: str
    checkpoint_id: str
    reverted: list[str]
    scope: Scope
    force: bool
    files: list[FilePlan] = field(default_factory=list)
    moves_conversation: bool = False
    leaf_target: str | None = None
    partial: bool = False
    undo_turn_id: str = ""

    @property
    def refused(self) -> bool:
        """All or nothing: a conflict the caller did not settle (force, partial) stops it."""
        return any(f.result == "conflict" for f in self.files)


@dataclass(frozen=True)
class FileChange:
    """One write for an applier: `new_bytes` None deletes the file; `old_bytes` is the
    content being replaced (None: the file does not exist), for appliers that edit buffers."""

    path: Path
    new_bytes: bytes | None
    old_bytes: bytes | None


class Applier(Protocol):
    """Writes a restore's changes: directly to disk, or as one editor `workspace/applyEdit`."""

    async def apply(self, changes: Sequence[FileChange], label: str) -> list[bool | str]:
        """Apply every change; per change True, or a string saying why it failed."""
        ...


class LeafView(Protocol):
    """Where the session's conversation is now."""

    @property
    def leaf_id(self) -> str | None: ...


class SessionWriterView(Protocol):
    """What a restore needs of `sessions.SessionWriter`."""

    session_id: str
    session: LeafView

    def append(self, entry: dict[str, Any], parent_id: str | None = ...) -> dict[str, Any]: ...

    def sync(self) -> None: ...


@dataclass
class FileResult:
    """The outcome for one path, as `agent/checkpoint/restore` reports it."""

    path: str
    operation: Operation
    result: Result
    reason: str | None = None


@dataclass
class RestoreResult:
    """What a restore did; `undo_checkpoint_id` restores everything it overwrote."""

    applied: bool
    files: list[FileResult]
    undo_checkpoint_id: str | None = None
    leaf_id: str | None = None


def plan(
    sessions: SessionView | Iterable[SessionView],
    checkpoint_id: str,
    *,
    blobs: BlobStore,
    roots: Sequence[Path | str],
    read_bytes: ReadBytes = read_disk,
    scope: Scope = "files",
    force: bool = False,
    partial: bool = False,
    paths: Collection[str] | None = None,
) -> RestorePlan:
    """Compute a restore of `checkpoint_id` and every later checkpoint on the active path.

    Per path, the target is the before-content of the earliest reverted checkpoint that
    touched it and the expected current content the after-content of the latest one. Current
    content that matches neither was changed by someone else: merged when those edits do not
    overlap the agent's, else a conflict (overwritten with `force`, skipped with `partial`).
    `paths` limits the files to those recorded paths.
    """
    _check_scope(scope)
    session, checkpoint = find_checkpoint(sessions, checkpoint_id)
    leaf = conversation_target(session, checkpoint) if scope != "files" else None
    return plan_reverts(
        session,
        chain(session, checkpoint),
        str(checkpoint["id"]),
        f"restore-{checkpoint['id']}",
        leaf,
        blobs=blobs,
        roots=roots,
        read_bytes=read_bytes,
        scope=scope,
        force=force,
        partial=partial,
        paths=paths,
    )


def plan_rewind(
    session: SessionView,
    entry_id: str,
    *,
    blobs: BlobStore,
    roots: Sequence[Path | str],
    read_bytes: ReadBytes = read_disk,
    scope: Scope = "both",
    force: bool = False,
    partial: bool = False,
    paths: Collection[str] | None = None,
) -> RestorePlan:
    """A rewind to just before the user message `entry_id`: every checkpoint after it on the
    active path is reverted (same rules as `plan`), the conversation moves to its parent."""
    _check_scope(scope)
    reverted, leaf = rewind_point(session, entry_id)
    return plan_reverts(
        session,
        reverted,
        entry_id,
        f"rewind-{entry_id}",
        leaf,
        blobs=blobs,
        roots=roots,
        read_bytes=read_bytes,
        scope=scope,
        force=force,
        partial=partial,
        paths=paths,
    )


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")


def plan_reverts(
    session: SessionView,
    reverted: Sequence[Entry],
    checkpoint_id: str,
    undo_turn_id: str,
    leaf_target: str | None,
    *,
    blobs: BlobStore,
    roots: Sequence[Path | str],
    read_bytes: ReadBytes,
    scope: Scope,
    force: bool,
    partial: bool,
    paths: Collection[str] | None,
) -> RestorePlan:
    """The plan reverting `reverted` (earliest first): the one rule behind restore and rewind."""
    result = RestorePlan(
        session_id=session.session_id,
        checkpoint_id=checkpoint_id,
        reverted=[str(e["id"]) for e in reversed(reverted)],
        scope=scope,
        force=force,
        partial=partial,
        undo_turn_id=undo_turn_id,
    )
    if scope != "files":
        result.moves_conversation = True
        result.leaf_target = leaf_target
    if scope != "conversation":
        confine = Confinement(roots)
        to_merge: list[tuple[FilePlan, bytes]] = []
        for path, (target, expected) in touched(reverted).items():
            if paths is None or path in paths:
                item, current = _plan_file(
                    path, target, expected, blobs, confine, read_bytes, force
                )
                result.files.append(item)
                if current is not None:
                    to_merge.append((item, current))
        if to_merge:
            with ThreadPoolExecutor(min(MERGERS, len(to_merge))) as pool:
                list(pool.map(lambda pending: _merge(*pending, blobs), to_merge))
        for item in result.files:
            if item.result == "conflict" and partial:
                item.result = "skipped"
    return result


MERGERS = 8
"""Merges at once: each waits on a `git merge-file` process, so they overlap well."""


def _plan_file(
    path: str,
    target: Any,
    expected: Any,
    blobs: BlobStore,
    confine: Confinement,
    read_bytes: ReadBytes,
    force: bool,
) -> tuple[FilePlan, bytes | None]:
    """The plan for one path, and its current content when it is to be merged (then the
    item says "conflict" until `_merge` has run)."""
    known = target != UNKNOWN
    item = FilePlan(
        path=path,
        operation=operation_of(target, expected),
        result="restored",
        target=target if known else None,
        expected=expected,
    )
    if not known:
        return _fail(item, "not restorable: changed by a shell command with no prior copy"), None
    if not os.path.isabs(path):
        return _fail(item, "not an absolute path"), None
    try:
        resolved = confine(path, for_write=True).as_posix()
    except OutsideWorkspace as exc:
        return _fail(item, str(exc)), None
    if resolved != path:  # swapped for a symlink since: the write lands there, say so
        item.path = resolved
        item.reason = f"{path} is now a symlink to this file"
    data = read_bytes(Path(resolved))
    item.current = None if data is None else sha256_hex(data)
    if item.current == target:
        item.result = "unchanged"
    elif target is not None and not blobs.has(target):
        return _fail(item, "snapshot missing"), None
    elif item.current != expected and not force:
        item.result, item.reason = "conflict", CONFLICT
        return item, data
    return item, None


def _merge(item: FilePlan, current: bytes, blobs: BlobStore) -> None:
    """Keep the user's edits when they do not overlap the agent's, else leave the conflict.

    Only text that exists on all three sides merges; a deleted, created, binary or
    undecodable file keeps the plain rule: any change since is a conflict.
    """
    if item.target is None or item.expected is None:
        return
    try:
        base, theirs = blobs.get(item.expected), blobs.get(item.target)
    except (BlobMissing, BlobCorrupt):
        return
    if not (is_text(base) and is_text(current) and is_text(theirs)):
        return
    try:
        merged = merge3(base, current, theirs)
    except MergeUnavailable as exc:
        item.reason = f"{CONFLICT} ({exc})"
        return
    if merged is None:
        item.reason = OVERLAP
    elif merged == current:
        item.result, item.reason = "unchanged", None
    else:
        item.result, item.write = "merged", merged
        item.reason = "your later edits were kept"


def plan_hunks(
    sessions: SessionView | Iterable[SessionView],
    checkpoint_id: str,
    path: str,
    indices: Collection[int],
    *,
    blobs: BlobStore,
    roots: Sequence[Path | str],
    read_bytes: ReadBytes = read_disk,
) -> RestorePlan:
    """A restore of some hunks of one file of one checkpoint (no later checkpoint is touched).

    The hunks are undone in the current content by a three-way merge, so they revert only
    where they still apply; elsewhere the file keeps every later change.
    """
    session, checkpoint = find_checkpoint(sessions, checkpoint_id)
    record = next((f for f in file_records(checkpoint) if f["path"] == path), None)
    if record is None:
        raise NotInCheckpoint(f"uri: {path} is not a file of checkpoint {checkpoint_id}")
    if not indices:
        raise NotInCheckpoint("hunks: name at least one hunk (agent/checkpoint/diff lists them)")
    restore = RestorePlan(
        session_id=session.session_id,
        checkpoint_id=str(checkpoint["id"]),
        reverted=[str(checkpoint["id"])],
        scope="files",
        force=False,
        undo_turn_id=f"restore-{checkpoint['id']}",
    )
    before, after = record.get("before"), record.get("after")
    item = FilePlan(path, operation_of(before, after), "restored", expected=after)
    restore.files.append(item)
    if before == UNKNOWN:
        _fail(item, "not restorable: changed by a shell command with no prior copy")
        return restore
    try:
        item.path = Confinement(roots)(path, for_write=True).as_posix()
        old = b"" if before is None else blobs.get(before)
        new = b"" if after is None else blobs.get(after)
    except (OutsideWorkspace, BlobMissing, BlobCorrupt) as exc:
        _fail(item, str(exc))
        return restore
    data = read_bytes(Path(item.path))
    item.current = None if data is None else sha256_hex(data)
    if data is None and after is not None:
        item.result, item.reason = "conflict", "deleted since the checkpoint"
        return restore
    if not (is_text(old) and is_text(new) and is_text(data)):
        _fail(item, "binary file: it has no hunks; restore the whole file instead")
        return restore
    try:
        reverted = revert_hunks(old, new, data or b"", indices)
    except ValueError as exc:
        raise NotInCheckpoint(str(exc)) from None
    except MergeUnavailable as exc:
        item.result, item.reason = "conflict", f"{CONFLICT} ({exc})"
        return restore
    if reverted is None:
        item.result, item.reason = "conflict", f"{CONFLICT}, on the lines of those hunks"
    elif reverted == (data or b"") and data is not None:
        item.result = "unchanged"
    elif before is None and not reverted and len(set(indices)) == len(hunks(old, new)):
        item.target = None  # every hunk of a created file: the file goes
        item.result = "restored" if item.current == after else "merged"
    else:
        item.target, item.write = sha256_hex(reverted), reverted
        item.result = "restored" if item.current == after else "merged"
    return restore


def _fail(item: FilePlan, reason: str) -> FilePlan:
    item.result = "failed"
    item.reason = reason
    return item


def unapplied(restore: RestorePlan) -> RestoreResult:
    """The plan as a result with nothing written (a dry run, or a plan with a conflict)."""
    return RestoreResult(applied=False, files=_results(restore))


def _results(restore: RestorePlan) -> list[FileResult]:
    return [FileResult(p.path, p.operation, p.result, p.reason) for p in restore.files]


async def apply(
    restore: RestorePlan,
    applier: Applier,
    blobs: BlobStore,
    writer: SessionWriterView,
    label: str,
    *,
    read_bytes: ReadBytes = read_disk,
) -> RestoreResult:
    """Carry out a plan: record one undo checkpoint, write the files, move the branch point
    (the undo checkpoint, appended there, is the new leaf).

    All or nothing: a plan with a conflict writes nothing and comes back as it is. Files are
    re-read (in a worker thread) just before writing; one that changed since planning is a
    conflict again. The undo checkpoint (`kind: "undo"`) holds each overwritten content as
    `before` and the written content as `after`, so restoring it puts back every file this
    restore wrote. `writer` must be the plan's session.
    """
    if writer.session_id != restore.session_id:
        raise CheckpointError(
            f"the plan is for session {restore.session_id}, the writer for {writer.session_id}"
        )
    if restore.refused:
        return unapplied(restore)
    outcomes = _results(restore)
    prepared = await asyncio.to_thread(_prepare_all, restore, outcomes, blobs, read_bytes)
    if prepared is None:
        return RestoreResult(applied=False, files=outcomes)
    changes, changed, undo_files = prepared
    if not changes and not restore.moves_conversation:
        return RestoreResult(applied=False, files=outcomes)
    undo_entry = checkpoint_entry(restore.undo_turn_id, undo_files, kind="undo")
    if restore.moves_conversation:
        # the undo entry goes where the conversation moves (so the active path's checkpoints
        # still add up to the files on disk) and records where the conversation was
        undo_entry["conversationTarget"] = writer.session.leaf_id
        undo = await asyncio.to_thread(writer.append, undo_entry, restore.leaf_target)
    else:
        undo = await asyncio.to_thread(writer.append, undo_entry)
    if changes:
        try:
            results: list[bool | str] = list(await applier.apply(changes, label))
        except Exception as exc:
            results = [f"could not apply: {exc}"] * len(changes)
        results += ["no result from the editor"] * (len(changes) - len(results))
        for outcome, ok in zip(changed, results, strict=False):
            if ok is not True:
                outcome.result = "failed"
                outcome.reason = str(ok) if ok else "the editor refused the edit"
    await asyncio.to_thread(writer.sync)
    return RestoreResult(
        applied=True,
        files=outcomes,
        undo_checkpoint_id=str(undo["id"]),
        leaf_id=restore.leaf_target if restore.moves_conversation else None,
    )


Prepared = tuple[list[FileChange], list[FileResult], list[dict[str, Any]]]


def _prepare_all(
    restore: RestorePlan, outcomes: list[FileResult], blobs: BlobStore, read_bytes: ReadBytes
) -> Prepared | None:
    """The writes and the undo checkpoint's files; None when a file changed into a conflict
    since planning (then nothing is written, and its outcome says so)."""
    changes: list[FileChange] = []
    changed: list[FileResult] = []
    undo_files: list[dict[str, Any]] = []
    late_conflict = False
    for item, outcome in zip(restore.files, outcomes, strict=True):
        if item.result not in ("restored", "merged"):
            continue
        change = _prepare(item, blobs, read_bytes, restore, outcome)
        if outcome.result == "conflict":
            late_conflict = True
        if change is None:
            continue
        changes.append(change)
        changed.append(outcome)
        old_sha = None if change.old_bytes is None else blobs.put(change.old_bytes)
        new_sha = blobs.put(item.write) if item.write is not None else item.target
        undo_files.append({"path": item.path, "before": old_sha, "after": new_sha})
    if late_conflict:
        return None
    blobs.sync()
    return changes, changed, undo_files


def _prepare(
    item: FilePlan,
    blobs: BlobStore,
    read_bytes: ReadBytes,
    restore: RestorePlan,
    outcome: FileResult,
) -> FileChange | None:
    """The change for one planned path, or None (with the outcome updated) if not to write."""
    path = Path(item.path)
    old = read_bytes(path)
    now = None if old is None else sha256_hex(old)
    if now != item.current and not restore.force:
        if now == item.target:
            outcome.result, outcome.reason = "unchanged", None
            return None
        outcome.result = "skipped" if restore.partial else "conflict"
        outcome.reason = "changed while restoring"
        return None
    if item.write is not None:
        return FileChange(path, item.write, old)
    if now == item.target:
        outcome.result = "unchanged"
        return None
    try:
        new = None if item.target is None else blobs.get(item.target)
    except (BlobMissing, BlobCorrupt) as exc:
        outcome.result = "failed"
        outcome.reason = str(exc)
        return None
    return FileChange(path, new, old)


class DirectApplier:
    """Writes straight to disk (clients without `workspace/applyEdit`, and the CLI).

    Each file is replaced by `write_atomic` (temp file, fsync, rename; permission bits kept;
    parent directories created). Paths are confined to the roots once more.
    """

    WRITERS = 16
    """Files written at once: their fsyncs overlap, so the file system commits them together
    instead of paying one journal commit per file."""

    def __init__(self, roots: Sequence[Path | str]) -> None:
        self.roots = tuple(roots)

    async def apply(self, changes: Sequence[FileChange], label: str) -> list[bool | str]:
        """Apply off the event loop, so a large restore does not stall it."""
        confine = Confinement(self.roots)

        def run() -> list[bool | str]:
            with ThreadPoolExecutor(self.WRITERS) as pool:
                return list(pool.map(lambda change: self._apply_one(change, confine), changes))

        return await asyncio.to_thread(run)

    def _apply_one(self, change: FileChange, confine: Confinement) -> bool | str:
        try:
            path = confine(change.path, for_write=True)
            if change.new_bytes is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, change.new_bytes)
        except (OSError, OutsideWorkspace) as exc:
            return str(exc)
        return True
