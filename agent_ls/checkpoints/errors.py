"""Errors of the checkpoint domain; the server maps them to JSON-RPC codes."""

from __future__ import annotations

from agent_ls.files.confine import OutsideWorkspace
from agent_ls.sessions.errors import EntryNotFound

__all__ = [
    "AmbiguousCheckpoint",
    "BlobCorrupt",
    "BlobMissing",
    "CheckpointError",
    "CheckpointNotFound",
    "NotARewindPoint",
    "NotInCheckpoint",
    "OutsideWorkspace",
]


class CheckpointError(Exception):
    """Base class, so callers can catch every checkpoint failure at one place."""


class CheckpointNotFound(CheckpointError):
    """No session of the workspace holds a checkpoint entry with this id."""


class AmbiguousCheckpoint(CheckpointError):
    """The id names checkpoints in several sessions (forks copy entries)."""

    def __init__(self, checkpoint_id: str, session_ids: list[str]) -> None:
        super().__init__(
            f"checkpoint {checkpoint_id} is in several sessions: {', '.join(session_ids)}; "
            f"name one as SESSION:{checkpoint_id}"
        )
        self.session_ids = session_ids


class BlobMissing(CheckpointError):
    """A snapshot is gone (garbage-collected or never written)."""


class BlobCorrupt(CheckpointError):
    """A snapshot's content no longer hashes to its name."""


class NotARewindPoint(EntryNotFound):
    """A rewind names an entry that is not a user prompt on the session's active path."""

    def __init__(self, session_id: str, entry_id: str, why: str) -> None:
        super().__init__(session_id, entry_id)
        self.args = (
            f"entryId: {entry_id} {why} in session {session_id}; rewind to a user message",
        )


class NotInCheckpoint(CheckpointError, LookupError):
    """A request names a file or hunk the checkpoint does not hold (the server answers -32602)."""
