"""The checkpoints of a session with what a restore of each would meet (for list views)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_ls.checkpoints.blobs import sha256_hex
from agent_ls.checkpoints.entries import UNKNOWN, Operation, file_records, operation_of
from agent_ls.checkpoints.history import SessionView, checkpoints, prompt_text, user_message
from agent_ls.checkpoints.recorder import ReadBytes, read_disk


@dataclass
class FileSummary:
    """`conflict`: the file changed since, so a restore would leave it alone unless forced."""

    path: str
    operation: Operation
    restorable: bool
    conflict: bool


@dataclass
class CheckpointSummary:
    """One checkpoint as `agent/checkpoint/list` and `agent-ls sessions checkpoints` show it.

    `active` is False for checkpoints off the session's active path (after a conversation
    restore); they can still be restored, which is how a restore is redone. `moved_conversation`
    marks an undo checkpoint whose restore moved the conversation: undoing it with scope `both`
    moves it back.
    """

    checkpoint_id: str
    turn_id: str
    kind: str
    created_at: str
    user_entry_id: str | None
    prompt: str
    active: bool
    files: list[FileSummary] = field(default_factory=list)
    moved_conversation: bool = False


def summarize(
    entry: Mapping[str, Any], *, prompt: str = "", active: bool = True
) -> CheckpointSummary:
    """What the entry itself records, no file read: the live update of a new checkpoint and the
    transcript's checkpoint item both come from here, so they cannot disagree.

    `conflict` stays False: only `list_checkpoints` compares the files with the disk.
    """
    user_entry_id = entry.get("userEntryId")
    return CheckpointSummary(
        checkpoint_id=str(entry["id"]),
        turn_id=str(entry.get("turnId", "")),
        kind=str(entry.get("kind", "turn")),
        created_at=str(entry.get("ts", "")),
        user_entry_id=None if user_entry_id is None else str(user_entry_id),
        prompt=prompt,
        active=active,
        files=[
            FileSummary(
                path=record["path"],
                operation=operation_of(record.get("before"), record.get("after")),
                restorable=record.get("before") != UNKNOWN,
                conflict=False,
            )
            for record in file_records(entry)
        ],
        moved_conversation="conversationTarget" in entry,
    )


def list_checkpoints(
    session: SessionView, read_bytes: ReadBytes = read_disk
) -> list[CheckpointSummary]:
    """Every checkpoint of the session, oldest first, with per-file conflict flags.

    A file conflicts when its current content is neither the content the restore would write
    nor the content the latest later checkpoint on the active path left.
    """
    on_path = {e["id"] for e in session.path()}
    current: dict[str, str | None] = {}

    def now(path: str) -> str | None:
        if path not in current:
            data = read_bytes(Path(path))
            current[path] = None if data is None else sha256_hex(data)
        return current[path]

    latest_after: dict[str, str | None] = {}
    summaries: list[CheckpointSummary] = []
    for entry in reversed(checkpoints(session)):
        prompt = user_message(session, entry) if entry.get("kind") != "undo" else None
        summary = summarize(entry, prompt=prompt_text(prompt), active=entry["id"] in on_path)
        summary.user_entry_id = None if prompt is None else str(prompt["id"])
        for file, record in zip(summary.files, file_records(entry), strict=True):
            expected = latest_after.get(file.path, record.get("after"))
            file.conflict = now(file.path) not in (expected, record.get("before"))
        if summary.active:
            for record in file_records(entry):
                latest_after.setdefault(record["path"], record.get("after"))
        summaries.append(summary)
    summaries.reverse()
    return summaries
