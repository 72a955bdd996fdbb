"""Errors of the session store; the server maps them to stable JSON-RPC codes."""

from __future__ import annotations


class StoreError(Exception):
    """Base class, so callers can catch every store failure in one place."""


class InvalidSessionId(StoreError, ValueError):
    """A session id from outside that is not letters, digits, ``.``, ``_`` and ``-`` (at most
    128, not starting with a dot); it never names a path."""

    def __init__(self, session_id: object, *, custom: bool = False) -> None:
        rule = (
            "; a session id is 1 to 128 letters, digits, '.', '_' or '-', starting with a"
            " letter or digit"
            if custom
            else ""
        )
        super().__init__(f"invalid session id: {session_id!r}{rule}")
        self.session_id = session_id


class SessionExists(StoreError):
    """A caller's chosen session id that a session of the workspace (or its trash) has."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id} already exists (in the workspace or its trash); choose"
            " another id, or undelete or switch to that session"
        )
        self.session_id = session_id


class SessionNotFound(StoreError, LookupError):
    """No session file with this id in the workspace's store."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session not found: {session_id}")
        self.session_id = session_id


class EntryNotFound(StoreError, LookupError):
    """An entry id that the session does not hold."""

    def __init__(self, session_id: str, entry_id: object) -> None:
        super().__init__(f"entry not found in session {session_id}: {entry_id!r}")
        self.session_id = session_id
        self.entry_id = entry_id


class SessionBusy(StoreError):
    """Another writer (another process, or another writer in this one) holds the session."""

    def __init__(self, session_id: str, owner_pid: int | None) -> None:
        owner = f"process {owner_pid}" if owner_pid else "another writer"
        super().__init__(f"session {session_id} is busy: {owner} is writing to it")
        self.session_id = session_id
        self.owner_pid = owner_pid


class InvalidCursor(StoreError, ValueError):
    """A list cursor that this store did not hand out."""

    def __init__(self, cursor: str) -> None:
        super().__init__(f"invalid cursor: {cursor!r}")
        self.cursor = cursor


class CorruptHeader(StoreError):
    """A session file whose first line is not a valid header; the store moves it aside."""


class NotRegularFile(StoreError):
    """A name in the store that is not a regular file (a FIFO, a directory, a socket)."""

    def __init__(self, path: object, what: str) -> None:
        super().__init__(f"{path} is {what}, not a session file; move it out of the store")
        self.path = path


class IndexUnavailable(StoreError):
    """``index.sqlite`` could not be read or written (locked past the timeout, disk trouble)."""

    def __init__(self, path: object, reason: object) -> None:
        super().__init__(
            f"the session index {path} could not be used ({reason}); try again, and if it "
            "persists delete that file (it is rebuilt from the session files)"
        )


class NoStoreRoot(StoreError):
    """No directory to keep sessions in: no usable home directory and no override."""
