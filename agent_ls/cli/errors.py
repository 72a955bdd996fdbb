"""How the command-line front ends report a failure: one sentence on stderr, never a traceback."""

from __future__ import annotations

import sqlite3
import sys


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
    return str(exc)


def fail(exc: BaseException, prog: str = "agent-ls sessions", status: int = 1) -> int:
    """Print ``exc`` as one line on stderr; returns ``status``, the command's exit status."""
    print(f"{prog}: {sentence(exc)}", file=sys.stderr)
    return status
