"""`_agent-ls/…` extension methods: checkpoints and rewind as requests, for clients with buttons.

Params and results are the LSP door's (docs/protocol.md, Checkpoints), built by the same
functions, plus the `sessionId` that ACP requests carry. Checkpoint ids are `SESSION:ENTRY`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs

from agent_ls.acp.errors import domain_error, invalid_params
from agent_ls.checkpoints.errors import CheckpointError
from agent_ls.core.sessions import UnknownWorkspace
from agent_ls.lsp import protocol
from agent_ls.lsp.params import ParamsError, structure
from agent_ls.sessions.errors import StoreError

if TYPE_CHECKING:
    from agent_ls.acp.agent import AcpAgent, OpenSession

PREFIX = "agent-ls"
CHECKPOINT_LIST = f"{PREFIX}/checkpoint/list"
CHECKPOINT_DIFF = f"{PREFIX}/checkpoint/diff"
CHECKPOINT_RESTORE = f"{PREFIX}/checkpoint/restore"
SESSION_REWIND = f"{PREFIX}/session/rewind"
METHODS = (CHECKPOINT_LIST, CHECKPOINT_DIFF, CHECKPOINT_RESTORE, SESSION_REWIND)


@attrs.define
class RewindParams:
    """Rewind the session to before a checkpoint: by default its conversation and its files."""

    checkpoint_id: str
    scope: Literal["files", "conversation", "both"] = "both"
    force: bool = False


def capabilities() -> dict[str, Any]:
    """`agentCapabilities._meta["agent-ls"]`: what a client may call and how."""
    return {
        "methods": [f"_{m}" for m in METHODS],
        "checkpoints": {"restoreScopes": ["files", "conversation", "both"], "undo": True},
    }


async def handle(agent: AcpAgent, method: str, params: dict[str, Any]) -> dict[str, Any]:
    from acp import RequestError

    if method not in METHODS:
        raise RequestError.method_not_found(f"_{method}")
    try:
        return await _call(agent, method, params)
    except ParamsError as exc:
        raise invalid_params(str(exc)) from exc
    except (StoreError, CheckpointError, UnknownWorkspace, OSError) as exc:
        raise domain_error(exc) from exc


async def _call(agent: AcpAgent, method: str, params: dict[str, Any]) -> dict[str, Any]:
    open_session = _session(agent, params)
    checkpoints = open_session.service.checkpoints
    if method == CHECKPOINT_LIST:
        p = structure(params, protocol.SessionParams)
        found = checkpoints.list(p.session_id)
        return {"checkpoints": [protocol.checkpoint_to_wire(p.session_id, s) for s in found]}
    body = {k: v for k, v in params.items() if k != "sessionId"}
    if method == CHECKPOINT_DIFF:
        d = structure(body, protocol.CheckpointDiffParams)
        session_id, entry_id = _split(open_session.session_id, d.checkpoint_id)
        return protocol.diff_to_wire(checkpoints.diff(session_id, entry_id, d.uri))
    if method == CHECKPOINT_RESTORE:
        r = structure(body, protocol.CheckpointRestoreParams)
        session_id, entry_id = _split(open_session.session_id, r.checkpoint_id)
        report = await checkpoints.restore(
            session_id,
            entry_id,
            scope=r.scope,
            dry_run=r.dry_run,
            force=r.force,
            partial=r.partial,
            uris=r.files,
        )
        return protocol.restore_to_wire(report)
    w = structure(body, RewindParams)
    session_id, entry_id = _split(open_session.session_id, w.checkpoint_id)
    report = await checkpoints.restore(
        session_id, entry_id, scope=w.scope, dry_run=False, force=w.force
    )
    return protocol.restore_to_wire(report)


def _session(agent: AcpAgent, params: dict[str, Any]) -> OpenSession:
    session_id = params.get("sessionId")
    if not isinstance(session_id, str):
        raise invalid_params("sessionId: required, the id of a session open on this connection")
    return agent.session(session_id)


def _split(session_id: str, checkpoint_id: str) -> tuple[str, str]:
    """A checkpoint id of the session the request names (`SESSION:ENTRY`)."""
    owner, _, entry_id = checkpoint_id.partition(":")
    if owner != session_id or not entry_id:
        raise invalid_params(
            f"checkpointId: {checkpoint_id!r} is not a checkpoint of session {session_id} "
            "(use an id from _agent-ls/checkpoint/list)"
        )
    return owner, entry_id
