"""pygls wiring only: parse params, call the service, shape the result, map errors to codes."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import attrs
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter, lsp_method
from pygls.protocol.json_rpc import MsgId

from agent_ls import __version__
from agent_ls.checkpoints.errors import CheckpointError, CheckpointNotFound, NotInCheckpoint
from agent_ls.core.branch_point import TurnRequestError
from agent_ls.core.rewind import rewind
from agent_ls.core.search_index import index_in_child
from agent_ls.core.service import AgentService
from agent_ls.core.sessions import (
    Sessions,
    Transcript,
    UnknownWorkspace,
    touched_key,
    uri_to_path,
)
from agent_ls.core.tasks import spawn
from agent_ls.lsp import protocol
from agent_ls.lsp.adapter import LspAdapter
from agent_ls.lsp.options import Options, parse_options
from agent_ls.lsp.params import ParamsError, structure
from agent_ls.sessions.errors import (
    EntryNotFound,
    InvalidCursor,
    InvalidSessionId,
    SessionBusy,
    SessionExists,
    SessionNotFound,
    StoreError,
)
from agent_ls.sessions.index import Filters
from agent_ls.sessions.store import SessionInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
PROVIDERS = ["anthropic", "scripted"]


@attrs.define
class AgentRequest:
    """A custom request; `params` is already the typed params object or the ParamsError."""

    id: MsgId
    method: str
    jsonrpc: str
    params: Any = None


@attrs.define
class AgentNotification:
    method: str
    jsonrpc: str
    params: Any = None


def _typed(method: str, raw: Any) -> Any:
    try:
        return structure(raw, protocol.PARAMS[method])
    except ParamsError as exc:
        return exc


def _converter() -> Any:
    converter = default_converter()
    for cls in (AgentRequest, AgentNotification):
        converter.register_structure_hook(
            cls, lambda obj, c: c(**{**obj, "params": _typed(obj["method"], obj.get("params"))})
        )
    return converter


class AgentProtocol(LanguageServerProtocol):
    """Routes the agent/* methods to typed params that never fail to structure.

    pygls drops a request whose params do not structure, leaving the client waiting forever;
    here a bad shape becomes a ParamsError value the handler answers with -32602.
    """

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(
        self, params: lsp.InitializeParams
    ) -> Generator[Any, Any, lsp.InitializeResult]:
        """pygls builds the capabilities; the agent's own go under `experimental.agent`."""
        result: lsp.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"agent": protocol.agent_capabilities(PROVIDERS)}
        return result

    def get_message_type(self, method: str) -> type[Any] | None:
        if method in protocol.PARAMS:
            return AgentNotification if method == protocol.SESSION_CANCEL else AgentRequest
        return super().get_message_type(method)


class AgentServer(LanguageServer):
    """The language server: holds the service once `initialize` has named the folders."""

    def __init__(self) -> None:
        super().__init__(
            "agent-ls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=AgentProtocol,
            converter_factory=_converter,
        )
        self.options = Options()
        self.editor = LspAdapter(self)
        self._service: AgentService | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._start_up: asyncio.Future[Any] | None = None  # retention, then the search index

    @property
    def service(self) -> AgentService:
        if self._service is None:  # LSP's own ServerNotInitialized
            raise JsonRpcException(code=-32002, message="server not initialized")
        return self._service


def _error(kind: str, message: str, **data: Any) -> JsonRpcException:
    return JsonRpcException(
        code=protocol.ERRORS[kind], message=message, data=protocol.error_data(kind, **data)
    )


def domain_error(exc: Exception) -> JsonRpcException:
    """Map a domain failure to its stable code and `data.kind` (docs/protocol.md, Errors)."""
    if isinstance(
        exc,
        ParamsError
        | UnknownWorkspace
        | InvalidSessionId
        | InvalidCursor
        | EntryNotFound
        | TurnRequestError
        | NotInCheckpoint,
    ):
        return _error("invalid_params", str(exc))
    if isinstance(exc, SessionNotFound):
        return _error("session_not_found", str(exc))
    if isinstance(exc, SessionExists):
        return _error("session_exists", str(exc), session_id=exc.session_id)
    if isinstance(exc, SessionBusy):
        message = f"{exc} (fork it to continue in parallel)"
        return _error("session_busy", message, owner_pid=exc.owner_pid)
    if isinstance(exc, CheckpointNotFound):
        return _error("checkpoint_not_found", f"checkpoint not found: {exc}")
    if isinstance(exc, CheckpointError):
        return _error("checkpoint_failed", str(exc))
    if isinstance(exc, StoreError):
        return _error("internal", f"session store: {exc}")
    if isinstance(exc, OSError):
        return _error("internal", f"file system: {exc}")
    raise exc


def handle(
    server: AgentServer, method: str
) -> Callable[[Callable[[Any], Awaitable[Any] | Any]], Callable[[Any], Awaitable[Any]]]:
    """Register an agent/* request handler that receives typed params and maps every error."""

    def decorator(fn: Callable[[Any], Awaitable[Any] | Any]) -> Callable[[Any], Awaitable[Any]]:
        async def wrapper(params: Any) -> Any:
            if isinstance(params, ParamsError):
                raise domain_error(params)
            try:
                result = fn(params)
                if asyncio.iscoroutine(result):
                    result = await result
            except (
                StoreError,
                CheckpointError,
                ParamsError,
                UnknownWorkspace,
                OSError,
                TurnRequestError,
            ) as exc:
                raise domain_error(exc) from exc
            return result

        server.feature(method)(wrapper)
        return wrapper

    return decorator


def create_server() -> AgentServer:
    """Build the server with every feature wired; one place lists them all."""
    server = AgentServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        server.options, warnings = parse_options(params.initialization_options)
        folders = [uri_to_path(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [uri_to_path(params.root_uri)]
        elif not folders and params.root_path:
            folders = [uri_to_path(params.root_path)]
        server.editor = LspAdapter(server, permission_ui=server.options.permission_ui)
        server._service = AgentService(
            folders,
            server.editor,
            store_root=server.options.session_dir,
            config=server.options.agent,
        )
        server.editor.roots = server._service.sessions.roots
        for warning in warnings:
            server.window_show_message(
                lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"agent-ls: {warning}")
            )

    @server.feature(lsp.INITIALIZED)
    def initialized(_: lsp.InitializedParams) -> None:
        server._watcher = server.service.watch(server.options.watch_interval)
        sessions = server.service.sessions
        sessions.retention = server.options.retention
        provider = server.service.prompting.provider()
        server._start_up = spawn(_start_up(sessions, provider), "start-up")

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(_: lsp.DidChangeWorkspaceFoldersParams) -> None:
        """pygls has updated its folder list; serve exactly those folders now."""
        sessions = server.service.sessions
        sessions.set_folders([uri_to_path(f.uri) for f in server.workspace.folders.values()])
        server.editor.roots = sessions.roots

    @server.feature(lsp.SHUTDOWN)
    def shutdown(_: Any) -> None:
        if server._watcher is not None:
            server._watcher.cancel()
        if server._start_up is not None:
            server._start_up.cancel()

    @handle(server, protocol.SESSION_LIST)
    def session_list(p: protocol.ListParams) -> dict[str, Any]:
        filters = None
        if p.tags or p.metadata or p.touched_path is not None:
            touched = None if p.touched_path is None else touched_key(p.touched_path)
            filters = Filters(tuple(p.tags or ()), dict(p.metadata or {}), touched)
        infos, next_cursor = server.service.sessions.list(
            cursor=p.cursor,
            limit=p.limit,
            query=p.query,
            all_workspaces=p.all_workspaces,
            workspace=p.workspace,
            filters=filters,
        )
        return protocol.list_to_wire([session_info(server, i) for i in infos], next_cursor)

    @handle(server, protocol.SESSION_NEW)
    def session_new(p: protocol.NewParams) -> dict[str, Any]:
        sessions = server.service.sessions
        info = sessions.new(name=p.name, workspace=p.workspace, session_id=p.session_id)
        return session_info(server, info)

    # The active session changes on the loop, in request order; the page is read in a thread.
    @handle(server, protocol.SESSION_SWITCH)
    async def session_switch(p: protocol.SwitchParams) -> dict[str, Any]:
        sessions = server.service.sessions
        sessions.select(p.session_id)
        if p.focus_entry_id is not None:
            await asyncio.to_thread(sessions.focus, p.session_id, p.focus_entry_id)
        page = await asyncio.to_thread(sessions.page, p.session_id, focus=p.focus_entry_id)
        return transcript(server, page, with_info=True)

    @handle(server, protocol.SESSION_RESUME_RECENT)
    async def session_resume_recent(p: protocol.WorkspaceParams) -> dict[str, Any]:
        sessions = server.service.sessions
        page = await asyncio.to_thread(sessions.page, sessions.resume_target(p.workspace))
        return transcript(server, page, with_info=True)

    @handle(server, protocol.SESSION_HISTORY)
    async def session_history(p: protocol.HistoryParams) -> dict[str, Any]:
        sessions = server.service.sessions
        page = await asyncio.to_thread(sessions.page, p.session_id, before=p.before, limit=p.limit)
        return transcript(server, page, with_info=False)

    @handle(server, protocol.SESSION_RENAME)
    def session_rename(p: protocol.RenameParams) -> dict[str, Any]:
        return session_info(server, server.service.sessions.rename(p.session_id, p.name))

    @handle(server, protocol.SESSION_DELETE)
    def session_delete(p: protocol.SessionParams) -> dict[str, Any]:
        server.service.sessions.delete(p.session_id)
        return {}

    @handle(server, protocol.SESSION_FORK)
    def session_fork(p: protocol.ForkParams) -> dict[str, Any]:
        return session_info(server, server.service.sessions.fork(p.session_id, p.entry_id))

    @handle(server, protocol.SESSION_PROMPT)
    async def session_prompt(p: protocol.PromptParams) -> dict[str, Any]:
        service, editor = server.service, server.editor
        session_id = service.sessions.prompt_target(p.session_id)
        attachments = [protocol.attachment(ref) for ref in p.context or []]
        editor.begin_progress(session_id, p.work_done_token)
        try:
            outcome = await service.prompting.prompt(
                session_id, p.prompt, attachments, replace_entry_id=p.replace_entry_id
            )
        finally:
            editor.end_progress(session_id, "done")
        return protocol.prompt_result_to_wire(outcome)

    @server.feature(protocol.SESSION_CANCEL)
    def session_cancel(p: Any) -> None:
        if isinstance(p, ParamsError):
            log.warning("ignoring agent/session/cancel: %s", p)
            return
        server.service.prompting.cancel(p.session_id)

    @handle(server, protocol.CHECKPOINT_LIST)
    def checkpoint_list(p: protocol.SessionParams) -> dict[str, Any]:
        summaries = server.service.checkpoints.list(p.session_id)
        return {"checkpoints": [protocol.checkpoint_to_wire(p.session_id, s) for s in summaries]}

    @handle(server, protocol.CHECKPOINT_DIFF)
    def checkpoint_diff(p: protocol.CheckpointDiffParams) -> dict[str, Any]:
        session_id, entry_id = protocol.split_checkpoint_id(p.checkpoint_id)
        return protocol.diff_to_wire(server.service.checkpoints.diff(session_id, entry_id, p.uri))

    @handle(server, protocol.CHECKPOINT_RESTORE)
    async def checkpoint_restore(p: protocol.CheckpointRestoreParams) -> dict[str, Any]:
        session_id, entry_id = protocol.split_checkpoint_id(p.checkpoint_id)
        report = await server.service.checkpoints.restore(
            session_id,
            entry_id,
            scope=p.scope,
            dry_run=p.dry_run,
            force=p.force,
            partial=p.partial,
            uris=p.files,
        )
        return protocol.restore_to_wire(report)

    @handle(server, protocol.PERMISSIONS_LIST)
    def permissions_list(p: protocol.SessionParams) -> dict[str, Any]:
        rules = server.service.prompting.permission_rules(p.session_id)
        return {"rules": [protocol.rule_to_wire(r) for r in rules]}

    @handle(server, protocol.PERMISSIONS_REVOKE)
    def permissions_revoke(p: protocol.RevokeParams) -> dict[str, Any]:
        return {"revoked": server.service.prompting.revoke_permission(p.session_id, p.rule_id)}

    @handle(server, protocol.SESSION_RETRY)
    async def session_retry(p: protocol.RetryParams) -> dict[str, Any]:
        service, editor = server.service, server.editor
        service.sessions.locate(p.session_id)
        editor.begin_progress(p.session_id, p.work_done_token)
        try:
            outcome = await service.prompting.retry(p.session_id)
        finally:
            editor.end_progress(p.session_id, "done")
        return protocol.prompt_result_to_wire(outcome)

    @handle(server, protocol.SESSION_EXPORT)
    async def session_export(p: protocol.ExportParams) -> dict[str, Any]:
        from agent_ls.carry import requests as carry

        sessions = server.service.sessions
        args = (sessions, p.session_id, p.format, p.path, p.active_only)
        return await _carry(asyncio.to_thread(carry.export, *args))

    @handle(server, protocol.SESSION_IMPORT)
    async def session_import(p: protocol.ImportParams) -> dict[str, Any]:
        from agent_ls.carry import requests as carry

        args = (server.service.sessions, p.path, p.from_, p.all, p.workspace)
        report = await _carry(asyncio.to_thread(carry.import_sessions, *args))
        imported = [session_info(server, info) for info in report.imported]
        return protocol.import_to_wire(imported, report.skipped, report.problems)

    @handle(server, protocol.SESSION_REWIND)
    async def session_rewind(p: protocol.RewindParams) -> dict[str, Any]:
        report = await rewind(
            server.service.checkpoints,
            p.session_id,
            p.entry_id,
            scope=p.scope,
            dry_run=p.dry_run,
            force=p.force,
            partial=p.partial,
            uris=p.files,
        )
        return protocol.restore_to_wire(report)

    @handle(server, protocol.CHECKPOINT_REVERT_HUNKS)
    async def checkpoint_revert_hunks(p: protocol.RevertHunksParams) -> dict[str, Any]:
        session_id, entry_id = protocol.split_checkpoint_id(p.checkpoint_id)
        report = await server.service.checkpoints.revert_hunks(
            session_id, entry_id, p.uri, p.hunks, dry_run=p.dry_run
        )
        return protocol.restore_to_wire(report)

    @handle(server, protocol.SESSION_SEARCH)
    async def session_search(p: protocol.SearchParams) -> dict[str, Any]:
        hits, next_cursor = await asyncio.to_thread(
            server.service.sessions.search,
            p.query,
            workspace=p.workspace,
            all_workspaces=p.all_workspaces,
            limit=p.limit,
            cursor=p.cursor,
        )
        return protocol.search_to_wire(hits, next_cursor)

    @handle(server, protocol.SESSION_SET_METADATA)
    def session_set_metadata(p: protocol.SetMetadataParams) -> dict[str, Any]:
        info = server.service.sessions.set_metadata(p.session_id, p.tags, p.metadata)
        return session_info(server, info)

    @handle(server, protocol.SESSION_RESET)
    async def session_reset(p: protocol.SessionParams) -> dict[str, Any]:
        sessions = server.service.sessions
        sessions.reset(p.session_id)
        page = await asyncio.to_thread(sessions.page, p.session_id)
        return transcript(server, page, with_info=True)

    @handle(server, protocol.SESSION_TRASH)
    async def session_trash(p: protocol.TrashParams) -> dict[str, Any]:
        sessions = server.service.sessions
        found = await asyncio.to_thread(
            sessions.trash, workspace=p.workspace, all_workspaces=p.all_workspaces
        )
        return {
            "sessions": [
                protocol.trashed_to_wire(session_info(server, info), deleted_at)
                for info, deleted_at in found
            ]
        }

    @handle(server, protocol.SESSION_UNDELETE)
    def session_undelete(p: protocol.SessionParams) -> dict[str, Any]:
        return session_info(server, server.service.sessions.undelete(p.session_id))

    @handle(server, protocol.SESSION_COMPACT)
    async def session_compact(p: protocol.SessionParams) -> dict[str, Any]:
        return protocol.compact_to_wire(await server.service.prompting.compact(p.session_id))

    return server


async def _start_up(sessions: Sessions, provider: asyncio.Future[Any]) -> None:
    """Retention (in a thread: it only moves and deletes files), then, once the provider is
    built (the SDK's load; a child started beside it slowed it and the server's exit under
    load), the search index (in a child process: reading the whole store would hold the
    loop's interpreter lock)."""
    await asyncio.to_thread(sessions.collect)
    await asyncio.wait([provider])
    await index_in_child([f.path for f in sessions.folders], sessions.store_root)


async def _carry(work: Awaitable[T]) -> T:
    """An export or import whose failure is the request's fault (a bad bundle, a missing
    file) answers -32602 with the sentence; anything else maps as usual."""
    from agent_ls.carry.errors import CarryError

    try:
        return await work
    except CarryError as exc:
        raise ParamsError(str(exc)) from exc


def session_info(server: AgentServer, info: SessionInfo) -> dict[str, Any]:
    turns = server.service.turns
    return protocol.session_info_to_wire(
        info,
        active=info.session_id == server.service.sessions.active,
        live=turns.is_live(info.session_id),
    )


def transcript(server: AgentServer, page: Transcript, *, with_info: bool) -> dict[str, Any]:
    info = session_info(server, page.info) if with_info else None
    return protocol.transcript_to_wire(
        page.info.session_id, info, page.items, page.has_more, page.focus_entry_id
    )


class _PipeReader(asyncio.StreamReader):
    """stdin as an asyncio stream: no thread hop per header line, no allocation up front.

    pygls reads stdin through a thread pool, three round trips per message; with twenty turns
    streaming, each waits behind the busy loop and a request took half a second to be read.
    Bad framing must not end the server: an over-long header line is skipped, and a body cut
    short by EOF is returned as it is (pygls then fails to parse it and stops at EOF).
    """

    async def readline(self) -> bytes:
        try:
            return await super().readline()
        except ValueError:  # a header line longer than the limit: drop it, keep reading
            return b"X-Ignored: over-long header\r\n"

    async def readexactly(self, n: int) -> bytes:
        try:
            return await super().readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


class _PipeWriter:
    """stdout through an asyncio transport: writes never block the event loop."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def close(self) -> None:
        self.transport.close()


def serve_stdio(server: AgentServer) -> None:
    """Serve LSP on stdin/stdout with asyncio pipes (pygls' own start_io when they are not
    pipes, e.g. a file redirected to stdin)."""
    import stat
    import threading

    from pygls.io_ import run_async

    if not all(
        stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISSOCK(os.fstat(fd).st_mode) for fd in (0, 1)
    ):
        server.start_io()
        return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reader = _PipeReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        # SIGTERM ends the server as a closed stdin does: the read loop stops, asyncio.run
        # cancels every task, and a running command's process group is killed on the way out.
        loop.add_signal_handler(signal.SIGTERM, reader.feed_eof)
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout)
        server.protocol.set_writer(_PipeWriter(transport))
        server._stop_event = threading.Event()
        await run_async(
            stop_event=server._stop_event,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, SystemExit, BrokenPipeError):
        pass
    finally:
        server.shutdown()
