"""How the command-line front ends report a failure: one sentence, never a traceback.

Plain output puts the sentence on stderr; with ``--json`` it is ``{"error": {kind, message}}`` on
stdout, where a script reads the answer, and the exit status says it failed.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from agent_ls.sessions.errors import (
    InvalidSessionId,
    SessionBusy,
    SessionExists,
    SessionNotFound,
    StoreError,
)


class Ambiguous(StoreError, LookupError):
    """A prefix or name that matches more than one session."""


class NeedsConfirmation(StoreError):
    """A destructive command without a person to ask and without --yes."""


def sentence(exc: BaseException) -> str:
    """An error as one line a person can act on (never a traceback or an errno tuple)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}; check the path and its permissions, then try again"
    if isinstance(exc, sqlite3.Error):
        return (
            f"the session index could not be used ({exc}); try again, and if it persists "
            "delete index.sqlite in the workspace's store (it is rebuilt from the sessions)"
        )
    if isinstance(exc, SessionNotFound):
        return f"no session {exc.session_id}; `agent-ls sessions list` shows the ids"
    return str(exc) or type(exc).__name__


def kind(exc: BaseException) -> str:
    """The stable name of the failure, for scripts (`error.kind` in JSON)."""
    for cls, name in (
        (Ambiguous, "ambiguous"),
        (NeedsConfirmation, "needs_confirmation"),
        (SessionNotFound, "not_found"),
        (InvalidSessionId, "invalid_id"),
        (SessionBusy, "busy"),
        (SessionExists, "exists"),
        (sqlite3.Error, "index"),
        (OSError, "os"),
        (StoreError, "store"),
    ):
        if isinstance(exc, cls):
            return name
    return "internal"


def fail(
    exc: BaseException, prog: str = "agent-ls sessions", status: int = 1, as_json: bool = False
) -> int:
    """Report ``exc``; returns ``status``, the command's exit status."""
    if as_json:
        print(json.dumps({"error": {"kind": kind(exc), "message": sentence(exc)}}))
    else:
        print(f"{prog}: {sentence(exc)}", file=sys.stderr)
    return status
