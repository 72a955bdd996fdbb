"""The checkpoints of a session with what a restore of each would meet (for list views)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    restore); they can still be restored, which is how a restore is redone.
    """

    checkpoint_id: str
    turn_id: str
    kind: str
    created_at: str
    user_entry_id: str | None
    prompt: str
    active: bool
    files: list[FileSummary] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """camelCase fields like the wire's `Checkpoint` (paths, not URIs)."""
        return {
            "checkpointId": self.checkpoint_id,
            "turnId": self.turn_id,
            "kind": self.kind,
            "createdAt": self.created_at,
            "userEntryId": self.user_entry_id,
            "prompt": self.prompt,
            "active": self.active,
            "files": [asdict(f) for f in self.files],
        }


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
        summary = CheckpointSummary(
            checkpoint_id=str(entry["id"]),
            turn_id=str(entry.get("turnId", "")),
            kind=str(entry.get("kind", "turn")),
            created_at=str(entry.get("ts", "")),
            user_entry_id=None if prompt is None else str(prompt["id"]),
            prompt=prompt_text(prompt),
            active=entry["id"] in on_path,
        )
        for record in file_records(entry):
            path, before = record["path"], record.get("before")
            expected = latest_after.get(path, record.get("after"))
            summary.files.append(
                FileSummary(
                    path=path,
                    operation=operation_of(before, record.get("after")),
                    restorable=before != UNKNOWN,
                    conflict=now(path) not in (expected, before),
                )
            )
        if summary.active:
            for record in file_records(entry):
                latest_after.setdefault(record["path"], record.get("after"))
        summaries.append(summary)
    summaries.reverse()
    return summaries
