"""Where a new prompt attaches: after a failed turn, in place of an edited prompt, on a retry.

A failed or replaced turn stays in the session file as a branch; the next request starts from
the parent of its prompt, so it never carries that prompt twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Entry = Mapping[str, Any]
RETRYABLE = ("error", "cancelled", "max_turn_requests")


class TurnRequestError(ValueError):
    """A retry or an edit that names nothing to act on; the message says what to do instead."""


class SessionTree(Protocol):
    """What this module reads of a `sessions.Session`."""

    @property
    def leaf_id(self) -> str | None: ...

    def has(self, entry_id: str) -> bool: ...

    def get(self, entry_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Start:
    """The entry the new prompt attaches to (None: the root), and the prompt of a retry."""

    parent: str | None
    blocks: list[dict[str, Any]] | None = None


def is_prompt(entry: Entry) -> bool:
    """A message the user typed (tool results are stored with their own role)."""
    return entry.get("type") == "message" and entry.get("role") == "user"


def last_turn_end(session: SessionTree) -> dict[str, Any] | None:
    """The `turn_end` entry closing the last turn on the active path; None when that turn ended
    normally (its last message comes first) or there is none."""
    entry_id = session.leaf_id
    while entry_id is not None:
        entry = session.get(entry_id)
        if entry.get("type") == "turn_end":
            return entry
        if entry.get("type") == "message":
            return None
        entry_id = entry.get("parentId")
    return None


def turn_prompt(session: SessionTree, entry: Entry) -> dict[str, Any] | None:
    """The user message that started the turn `entry` belongs to."""
    entry_id = entry.get("parentId")
    while entry_id is not None:
        found = session.get(entry_id)
        if is_prompt(found):
            return found
        entry_id = found.get("parentId")
    return None


def after_failure(session: SessionTree) -> Start | None:
    """A prompt after a turn that ended in an error attaches where that turn's prompt did; any
    other prompt attaches to the leaf (None)."""
    ended = last_turn_end(session)
    if ended is None or ended.get("stopReason") != "error":
        return None
    prompt = turn_prompt(session, ended)
    return None if prompt is None else Start(prompt.get("parentId"))


def replacing(session: SessionTree, entry_id: str) -> Start:
    """Edit and resend: the new prompt attaches where the prompt `entry_id` did."""
    entry = session.get(entry_id) if session.has(entry_id) else None
    if entry is None or not is_prompt(entry):
        raise TurnRequestError(
            f"replaceEntryId: {entry_id} is not a prompt of this session; "
            "name the entryId of a user message from the transcript"
        )
    return Start(entry.get("parentId"))


def retrying(session: SessionTree) -> Start:
    """Retry: the last turn's prompt again, attached where it was, when that turn failed or was
    cancelled."""
    ended = last_turn_end(session)
    prompt = None
    if ended is not None and ended.get("stopReason") in RETRYABLE:
        prompt = turn_prompt(session, ended)
    if ended is None or prompt is None:
        raise TurnRequestError(
            "There is nothing to retry: the last turn of this session did not fail and was not "
            "cancelled. Send a new prompt instead."
        )
    content = prompt.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    return Start(prompt.get("parentId"), [dict(b) for b in blocks or []])
