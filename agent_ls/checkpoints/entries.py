"""The `checkpoint` session entry: its shape, built and read in one place.

```
{"type": "checkpoint", "turnId": str, "kind": "turn" | "undo", "userEntryId"?: str,
 "files": [{"path": "/abs/posix/path", "before": sha | null | "unknown", "after": sha | null}]}
```
`before: null` means the path did not exist before (the turn created it), `after: null` that it
does not exist after (the turn deleted it). `before: "unknown"` marks a file a shell command
changed when no prior copy existed: it is listed, never restored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

UNKNOWN = "unknown"

Kind = Literal["turn", "undo"]
Operation = Literal["created", "modified", "deleted"]


def checkpoint_entry(
    turn_id: str,
    files: Sequence[Mapping[str, Any]],
    *,
    kind: Kind = "turn",
    user_entry_id: str | None = None,
) -> dict[str, Any]:
    """The entry the service appends through the session writer at the end of a turn.

    `user_entry_id` is the id of the turn's user message; a conversation restore moves the
    branch point to that message's parent. Undo checkpoints have none: restoring one returns
    the conversation to the undo entry itself.
    """
    entry: dict[str, Any] = {
        "type": "checkpoint",
        "turnId": turn_id,
        "kind": kind,
        "files": [dict(f) for f in files],
    }
    if user_entry_id is not None:
        entry["userEntryId"] = user_entry_id
    return entry


def is_checkpoint(entry: Mapping[str, Any]) -> bool:
    """True for a well-formed checkpoint entry (entries come from files, so check)."""
    return (
        entry.get("type") == "checkpoint"
        and isinstance(entry.get("id"), str)
        and isinstance(entry.get("files"), list)
    )


def file_records(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entry's file records that have a usable path; malformed ones are ignored."""
    return [
        f for f in entry.get("files", []) if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]


def operation_of(before: str | None, after: str | None) -> Operation:
    """What a change did to a path, from its before/after hashes."""
    if before is None:
        return "created"
    if after is None:
        return "deleted"
    return "modified"
