"""Restore: plan per-file actions and conflicts, record an undo checkpoint, then apply."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from agent_ls.checkpoints.blobs import BlobStore, sha256_hex
from agent_ls.checkpoints.entries import UNKNOWN, Operation, checkpoint_entry, operation_of
from agent_ls.checkpoints.errors import (
    BlobCorrupt,
    BlobMissing,
    CheckpointError,
    OutsideWorkspace,
)
from agent_ls.checkpoints.history import (
    SessionView,
    chain,
    conversation_target,
    find_checkpoint,
    touched,
)
from agent_ls.checkpoints.recorder import ReadBytes, read_disk
from agent_ls.files.atomic import write_atomic
from agent_ls.files.confine import Confinement

Scope = Literal["files", "conversation", "both"]
Result = Literal["restored", "conflict", "unchanged", "failed"]
SCOPES: tuple[Scope, ...] = ("files", "conversation", "both")


@dataclass
class FilePlan:
    """One path of a restore: what it will do and why.

    `target` is the content to write back (None: delete the file), `expected` the content the
    reverted turns left (anything else is a conflict), `current` what is there now.
    """

    path: str
    operation: Operation
    result: Result
    reason: str | None = None
    target: str | None = None
    expected: str | None = None
    current: str | None = None


@dataclass
class RestorePlan:
    """A restore computed but not applied (a dry run returns just this)."""

    session_id: str
    checkpoint_id: str
    reverted: list[str]
    scope: Scope
    force: bool
    files: list[FilePlan] = field(default_factory=list)
    moves_conversation: bool = False
    leaf_target: str | None = None


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


class SessionWriterView(Protocol):
    """What a restore needs of `sessions.SessionWriter`."""

    session_id: str

    def append(self, entry: dict[str, Any], parent_id: str | None = ...) -> dict[str, Any]: ...

    def set_leaf(self, entry_id: str | None) -> Any: ...

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
) -> RestorePlan:
    """Compute a restore of `checkpoint_id` and every later checkpoint on the active path.

    Per path, the target is the before-content of the earliest reverted checkpoint that
    touched it and the expected current content the after-content of the latest one. Current
    content that matches neither was changed by someone else: a conflict unless `force`.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    session, checkpoint = find_checkpoint(sessions, checkpoint_id)
    reverted = chain(session, checkpoint)
    result = RestorePlan(
        session_id=session.session_id,
        checkpoint_id=str(checkpoint["id"]),
        reverted=[str(e["id"]) for e in reversed(reverted)],
        scope=scope,
        force=force,
    )
    if scope != "files":
        result.moves_conversation = True
        result.leaf_target = conversation_target(session, checkpoint)
    if scope != "conversation":
        confine = Confinement(roots)
        for path, (target, expected) in touched(reverted).items():
            result.files.append(
                _plan_file(path, target, expected, blobs, confine, read_bytes, force)
            )
    return result


def _plan_file(
    path: str,
    target: Any,
    expected: Any,
    blobs: BlobStore,
    confine: Confinement,
    read_bytes: ReadBytes,
    force: bool,
) -> FilePlan:
    known = target != UNKNOWN
    item = FilePlan(
        path=path,
        operation=operation_of(target, expected),
        result="restored",
        target=target if known else None,
        expected=expected,
    )
    if not known:
        return _fail(item, "not restorable: changed by a shell command with no prior copy")
    if not os.path.isabs(path):
        return _fail(item, "not an absolute path")
    try:
        resolved = confine(path, for_write=True).as_posix()
    except OutsideWorkspace as exc:
        return _fail(item, str(exc))
    if resolved != path:  # swapped for a symlink since: the write lands there, say so
        item.path = resolved
        item.reason = f"{path} is now a symlink to this file"
    data = read_bytes(Path(resolved))
    item.current = None if data is None else sha256_hex(data)
    if item.current == target:
        item.result = "unchanged"
    elif item.current != expected and not force:
        item.result = "conflict"
        item.reason = "changed since the checkpoint"
    elif target is not None and not blobs.has(target):
        return _fail(item, "snapshot missing")
    return item


def _fail(item: FilePlan, reason: str) -> FilePlan:
    item.result = "failed"
    item.reason = reason
    return item


async def apply(
    restore: RestorePlan,
    applier: Applier,
    blobs: BlobStore,
    writer: SessionWriterView,
    label: str,
    *,
    read_bytes: ReadBytes = read_disk,
) -> RestoreResult:
    """Carry out a plan: record the undo checkpoint, write the files, move the branch point.

    Files are re-read just before writing; one that changed since planning is checked again.
    The undo checkpoint (`kind: "undo"`) holds each overwritten content as `before` and the
    restored content as `after`, so restoring it is a redo. `writer` must be the plan's session.
    """
    if writer.session_id != restore.session_id:
        raise CheckpointError(
            f"the plan is for session {restore.session_id}, the writer for {writer.session_id}"
        )
    outcomes = {p.path: FileResult(p.path, p.operation, p.result, p.reason) for p in restore.files}
    changes: list[FileChange] = []
    changed: list[FileResult] = []
    undo_files: list[dict[str, Any]] = []
    for item in restore.files:
        if item.result != "restored":
            continue
        change = _prepare(item, blobs, read_bytes, restore.force, outcomes[item.path])
        if change is not None:
            changes.append(change)
            changed.append(outcomes[item.path])
            old_sha = None if change.old_bytes is None else blobs.put(change.old_bytes)
            undo_files.append({"path": item.path, "before": old_sha, "after": item.target})
    if not changes and not restore.moves_conversation:
        return RestoreResult(applied=False, files=list(outcomes.values()))
    blobs.sync()
    undo = writer.append(
        checkpoint_entry(f"restore-{restore.checkpoint_id}", undo_files, kind="undo")
    )
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
    if restore.moves_conversation:
        writer.set_leaf(restore.leaf_target)
    writer.sync()
    return RestoreResult(
        applied=True,
        files=list(outcomes.values()),
        undo_checkpoint_id=str(undo["id"]),
        leaf_id=restore.leaf_target if restore.moves_conversation else None,
    )


def _prepare(
    item: FilePlan, blobs: BlobStore, read_bytes: ReadBytes, force: bool, outcome: FileResult
) -> FileChange | None:
    """The change for one planned path, or None (with the outcome updated) if not to write."""
    path = Path(item.path)
    old = read_bytes(path)
    now = None if old is None else sha256_hex(old)
    if now == item.target:
        outcome.result = "unchanged"
        return None
    if now != item.current and now != item.expected and not force:
        outcome.result = "conflict"
        outcome.reason = "changed while restoring"
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
