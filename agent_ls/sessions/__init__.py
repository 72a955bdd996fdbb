"""The session store: append-only JSONL files per workspace, with a rebuildable sqlite index."""

from .errors import (
    EntryNotFound,
    InvalidCursor,
    InvalidSessionId,
    SessionBusy,
    SessionNotFound,
    StoreError,
)
from .session import Session
from .store import SessionInfo, SessionStore, SessionWriter, list_all_workspaces

__all__ = [
    "EntryNotFound",
    "InvalidCursor",
    "InvalidSessionId",
    "Session",
    "SessionBusy",
    "SessionInfo",
    "SessionNotFound",
    "SessionStore",
    "SessionWriter",
    "StoreError",
    "list_all_workspaces",
]
