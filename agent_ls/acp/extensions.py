"""`_agent-ls/…` extension methods: checkpoints, rewind, export and import as requests, for
clients with buttons.

Params and results are the LSP door's (docs/protocol.md), structured and built by the same
classes and functions, plus the `sessionId` of a session open on this connection, which every
request carries. Checkpoint ids are `SESSION:ENTRY`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent_ls.acp.errors import domain_error, invalid_params
from agent_ls.carry.errors import CarryError
from agent_ls.checkpoints.errors import CheckpointError, NotInCheckpoint
from agent_ls.core.rewind import rewind
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
CHECKPOINT_REVERT_HUNKS = f"{PREFIX}/checkpoint/revertHunks"
SESSION_REWIND = f"{PREFIX}/session/rewind"
SESSION_EXPORT = f"{PREFIX}/session/export"
SESSION_IMPORT = f"{PREFIX}/session/import"
METHODS = (
    CHECKPOINT_LIST,
    CHECKPOINT_DIFF,
    CHECKPOINT_RESTORE,
    CHECKPOINT_REVERT_HUNKS,
    SESSION_REWIND,
    SESSION_EXPORT,
    SESSION_IMPORT,
)


def capabilities() -> dict[str, Any]:
    """`agentCapabilities._meta["agent-ls"]`: what a client may call and how (the checkpoint
    and carry parts of the LSP door's `experimental.agent`)."""
    lsp = protocol.agent_capabilities([])
    return {
        "methods": [f"_{m}" for m in METHODS],
        "checkpoints": lsp["checkpoints"],
        "carry": lsp["carry"],
    }


async def handle(agent: AcpAgent, method: str, params: dict[str, Any]) -> dict[str, Any]:
    from acp import RequestError

    if method not in METHODS:
        raise RequestError.method_not_found(f"_{method}")
    try:
        return await _call(agent, method, params)
    except (ParamsError, CarryError, NotInCheckpoint) as exc:
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
    if method == SESSION_REWIND:
        if "checkpointId" in params and "entryId" not in params:
            raise invalid_params(
                "entryId: required, the user message to rewind to (the messageId of a replayed "
                "user_message_chunk); to revert a checkpoint call _agent-ls/checkpoint/restore"
            )
        w = structure(params, protocol.RewindParams)
        report = await rewind(
            checkpoints,
            w.session_id,
            w.entry_id,
            scope=w.scope,
            dry_run=w.dry_run,
            force=w.force,
            partial=w.partial,
            uris=w.files,
        )
        return protocol.restore_to_wire(report)
    if method == SESSION_EXPORT:
        return await _export(open_session, structure(params, protocol.ExportParams))
    if method == SESSION_IMPORT:
        return await _import(open_session, structure(params, protocol.ImportParams))
    body = {k: v for k, v in params.items() if k != "sessionId"}
    if method == CHECKPOINT_DIFF:
        d = structure(body, protocol.CheckpointDiffParams)
        session_id, entry_id = _split(open_session.session_id, d.checkpoint_id)
        return protocol.diff_to_wire(checkpoints.diff(session_id, entry_id, d.uri))
    if method == CHECKPOINT_REVERT_HUNKS:
        h = structure(body, protocol.RevertHunksParams)
        session_id, entry_id = _split(open_session.session_id, h.checkpoint_id)
        report = await checkpoints.revert_hunks(
            session_id, entry_id, h.uri, h.hunks, dry_run=h.dry_run
        )
        return protocol.restore_to_wire(report)
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


async def _export(session: OpenSession, p: protocol.ExportParams) -> dict[str, Any]:
    """`{path, bytes}` written where `path` says, else `{content}` (text formats)."""
    from agent_ls.carry import requests as carry  # the exporters: imported when first used

    sessions = session.service.sessions
    args = (sessions, p.session_id, p.format, p.path, p.active_only)
    return await asyncio.to_thread(carry.export, *args)


async def _import(session: OpenSession, p: protocol.ImportParams) -> dict[str, Any]:
    """Into the session's folder, or the one of its folders `workspace` names."""
    from agent_ls.carry import requests as carry  # the importers: imported when first used

    args = (session.service.sessions, p.path, p.from_, p.all, p.workspace)
    report = await asyncio.to_thread(carry.import_sessions, *args)
    imported = [
        protocol.session_info_to_wire(info, active=False, live=False) for info in report.imported
    ]
    return protocol.import_to_wire(imported, report.skipped, report.problems)


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
