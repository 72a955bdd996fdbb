"""Errors of the checkpoint domain; the server maps them to JSON-RPC codes."""

from __future__ import annotations

from agent_ls.files.confine import OutsideWorkspace

__all__ = [
    "AmbiguousCheckpoint",
    "BlobCorrupt",
    "BlobMissing",
    "CheckpointError",
    "CheckpointNotFound",
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
