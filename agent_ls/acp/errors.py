"""Domain failures as ACP errors: standard codes where ACP has one, the LSP door's otherwise.

Every error is a sentence that says what to do; `data.kind` is the same stable kind the LSP
door sends, so a client of both switches on one set of names.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from acp import RequestError

from agent_ls.checkpoints.errors import CheckpointError, CheckpointNotFound
from agent_ls.core.sessions import UnknownWorkspace
from agent_ls.lsp.protocol import ERRORS
from agent_ls.sessions.errors import (
    EntryNotFound,
    InvalidCursor,
    InvalidSessionId,
    SessionBusy,
    SessionNotFound,
    StoreError,
)

P = ParamSpec("P")
T = TypeVar("T")
RESOURCE_NOT_FOUND = -32002  # ACP's own code for an unknown session


def error(code: int, kind: str, message: str, **data: Any) -> RequestError:
    return RequestError(code, message, {"kind": kind, **data})


def invalid_params(message: str) -> RequestError:
    return error(ERRORS["invalid_params"], "invalid_params", message)


def not_loaded(session_id: str) -> RequestError:
    return error(
        RESOURCE_NOT_FOUND,
        "session_not_found",
        f"session {session_id} is not open on this connection: call session/new, "
        "session/load or session/resume first",
    )


def domain_error(exc: Exception) -> RequestError:
    """The ACP error for a failure of the core or the store."""
    if isinstance(exc, UnknownWorkspace | InvalidSessionId | InvalidCursor | EntryNotFound):
        return invalid_params(str(exc))
    if isinstance(exc, SessionNotFound):
        message = f"{exc}: it may have been deleted; session/list shows the sessions there are"
        return error(RESOURCE_NOT_FOUND, "session_not_found", message)
    if isinstance(exc, SessionBusy):
        message = f"{exc} (wait for its turn to end, or fork it to continue in parallel)"
        return error(ERRORS["session_busy"], "session_busy", message, ownerPid=exc.owner_pid)
    if isinstance(exc, CheckpointNotFound):
        message = f"checkpoint not found: {exc} (/checkpoints lists them)"
        return error(ERRORS["checkpoint_not_found"], "checkpoint_not_found", message)
    if isinstance(exc, CheckpointError):
        return error(ERRORS["checkpoint_failed"], "checkpoint_failed", str(exc))
    if isinstance(exc, StoreError):
        return error(ERRORS["internal"], "internal", f"session store: {exc}")
    if isinstance(exc, OSError):
        return error(ERRORS["internal"], "internal", f"file system: {exc}")
    raise exc


def mapped(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Answer the core's failures as ACP errors instead of the SDK's generic internal error."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (StoreError, CheckpointError, UnknownWorkspace, OSError) as exc:
            raise domain_error(exc) from exc

    return wrapper
