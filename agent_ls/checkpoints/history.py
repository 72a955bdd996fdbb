"""Reading checkpoints out of a session: lookup, the chain a restore reverts, the turn's prompt."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from agent_ls.checkpoints.entries import file_records, is_checkpoint
from agent_ls.checkpoints.errors import (
    AmbiguousCheckpoint,
    CheckpointError,
    CheckpointNotFound,
    NotARewindPoint,
)

Entry = Mapping[str, Any]


@runtime_checkable
class SessionView(Protocol):
    """What checkpoints need of `sessions.Session` (a read-only snapshot)."""

    @property
    def session_id(self) -> str: ...

    @property
    def entries(self) -> Mapping[str, Entry]: ...

    def path(self, leaf: str | None = None) -> Sequence[Entry]: ...


def checkpoints(session: SessionView) -> list[Entry]:
    """Every checkpoint entry of the session, in file order (all branches)."""
    return [e for e in session.entries.values() if is_checkpoint(e)]


def find_checkpoint(
    sessions: SessionView | Iterable[SessionView], checkpoint_id: str
) -> tuple[SessionView, Entry]:
    """The session holding a checkpoint and its entry.

    `checkpoint_id` is the checkpoint entry's id, or `SESSION:ENTRY` when forks share the id.
    """
    pool = [sessions] if isinstance(sessions, SessionView) else list(sessions)
    session_filter, _, entry_id = checkpoint_id.rpartition(":")
    found = [
        (s, s.entries[entry_id])
        for s in pool
        if (not session_filter or s.session_id == session_filter)
        and entry_id in s.entries
        and is_checkpoint(s.entries[entry_id])
    ]
    if not found:
        raise CheckpointNotFound(f"checkpoint {checkpoint_id} not found")
    if len(found) > 1:
        raise AmbiguousCheckpoint(checkpoint_id, [s.session_id for s, _ in found])
    return found[0]


def chain(session: SessionView, checkpoint: Entry) -> list[Entry]:
    """The checkpoints a restore of `checkpoint` reverts, earliest first.

    That is the checkpoint itself and every checkpoint on the session's active path written
    after it (file order is creation order: entries are only appended).
    """
    order = {entry_id: i for i, entry_id in enumerate(session.entries)}
    start = order[checkpoint["id"]]
    later = [e for e in session.path() if is_checkpoint(e) and order.get(e["id"], -1) > start]
    return [checkpoint, *later]


def touched(checkpoints_earliest_first: Sequence[Entry]) -> dict[str, tuple[Any, Any]]:
    """Per path: (before of the earliest checkpoint touching it, after of the latest one)."""
    result: dict[str, tuple[Any, Any]] = {}
    for entry in checkpoints_earliest_first:
        for record in file_records(entry):
            path = record["path"]
            first = result[path][0] if path in result else record.get("before")
            result[path] = (first, record.get("after"))
    return result


def user_message(session: SessionView, checkpoint: Entry) -> Entry | None:
    """The user message that started the checkpoint's turn.

    `userEntryId` when the entry names it; otherwise the nearest user message among the
    checkpoint's ancestors (tool results have their own role, so this is the prompt).
    """
    entries = session.entries
    named = checkpoint.get("userEntryId")
    if isinstance(named, str) and named in entries:
        return entries[named]
    seen: set[str] = set()
    current = checkpoint.get("parentId")
    while isinstance(current, str) and current in entries and current not in seen:
        seen.add(current)
        entry = entries[current]
        if entry.get("type") == "message" and entry.get("role") == "user":
            return entry
        current = entry.get("parentId")
    return None


def conversation_target(session: SessionView, checkpoint: Entry) -> str | None:
    """Where a conversation restore moves the branch point (None: before the first message).

    For a turn: the parent of its user message, so the turn and all later ones leave the
    active path. For an undo checkpoint: where the conversation was when that restore ran,
    its `conversationTarget` (a restore that moved the conversation), else the entry itself.
    """
    if checkpoint.get("kind") == "undo":
        if "conversationTarget" in checkpoint:
            target = checkpoint["conversationTarget"]
            return target if isinstance(target, str) else None
        return str(checkpoint["id"])
    prompt = user_message(session, checkpoint)
    if prompt is None:
        raise CheckpointError(f"checkpoint {checkpoint['id']}: the turn's prompt is not found")
    parent = prompt.get("parentId")
    return parent if isinstance(parent, str) else None


def rewind_point(session: SessionView, entry_id: str) -> tuple[list[Entry], str | None]:
    """What rewinding to the user message `entry_id` reverts, and where the conversation goes.

    The checkpoints are those after the message on the active path, earliest first; the
    conversation moves to the message's parent (None: before the first message).
    """
    path = session.path()
    index = next((i for i, e in enumerate(path) if e.get("id") == entry_id), None)
    if index is None:
        why = "is not on the active path" if entry_id in session.entries else "is not an entry"
        raise NotARewindPoint(session.session_id, entry_id, why)
    message = path[index]
    if message.get("type") != "message" or message.get("role") != "user":
        raise NotARewindPoint(session.session_id, entry_id, "is not a user message")
    parent = message.get("parentId")
    later = [e for e in path[index + 1 :] if is_checkpoint(e)]
    return later, parent if isinstance(parent, str) else None


def prompt_text(entry: Entry | None) -> str:
    """The text of a user message (string content or text blocks)."""
    if entry is None:
        return ""
    content = entry.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        b["text"]
        for b in content
        if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
    )
