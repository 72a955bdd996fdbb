"""pygls wiring only: parse params, call the service, shape the result, map errors to codes."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import attrs
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter, lsp_method
from pygls.protocol.json_rpc import MsgId

from agent_ls import __version__
from agent_ls.agent.config import load_config
from agent_ls.checkpoints.errors import CheckpointError, CheckpointNotFound
from agent_ls.core.service import AgentService, UnknownWorkspace, uri_to_path
from agent_ls.lsp import protocol
from agent_ls.lsp.editor import LspEditor
from agent_ls.lsp.options import Options, parse_options
from agent_ls.lsp.params import ParamsError, structure, unstructure
from agent_ls.sessions.errors import (
    EntryNotFound,
    InvalidCursor,
    InvalidSessionId,
    SessionBusy,
    SessionNotFound,
    StoreError,
)

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
        self.editor = LspEditor(self)
        self._service: AgentService | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def service(self) -> AgentService:
        if self._service is None:
            raise JsonRpcException(code=-32002, message="server not initialized")
        return self._service


def _error(code: int, message: str, data: Any = None) -> JsonRpcException:
    return JsonRpcException(code=code, message=message, data=data)


def domain_error(exc: Exception) -> JsonRpcException:
    """Map a domain failure to the stable JSON-RPC code DESIGN.md gives it."""
    if isinstance(exc, ParamsError | UnknownWorkspace | InvalidSessionId | InvalidCursor):
        return JsonRpcInvalidParams(str(exc))
    if isinstance(exc, SessionNotFound):
        return _error(protocol.SESSION_NOT_FOUND, str(exc))
    if isinstance(exc, EntryNotFound):
        return JsonRpcInvalidParams(str(exc))
    if isinstance(exc, SessionBusy):
        return _error(
            protocol.SESSION_BUSY,
            f"{exc} (fork it to continue in parallel)",
            {"ownerPid": exc.owner_pid},
        )
    if isinstance(exc, CheckpointNotFound):
        return _error(protocol.CHECKPOINT_NOT_FOUND, f"checkpoint not found: {exc}")
    if isinstance(exc, CheckpointError):
        return _error(protocol.CHECKPOINT_CONFLICT, str(exc))
    if isinstance(exc, StoreError):
        return _error(-32603, f"session store: {exc}")
    if isinstance(exc, OSError):
        return _error(-32603, f"file system: {exc}")
    raise exc


def handle(
    server: AgentServer, method: str
) -> Callable[[Callable[[Any], Awaitable[Any] | Any]], Callable[[Any], Awaitable[Any]]]:
    """Register an agent/* request handler that receives typed params and maps every error."""

    def decorator(fn: Callable[[Any], Awaitable[Any] | Any]) -> Callable[[Any], Awaitable[Any]]:
        async def wrapper(params: Any) -> Any:
            if isinstance(params, ParamsError):
                raise JsonRpcInvalidParams(str(params))
            try:
                result = fn(params)
                if asyncio.iscoroutine(result):
                    result = await result
            except (StoreError, CheckpointError, ParamsError, UnknownWorkspace, OSError) as exc:
                raise domain_error(exc) from exc
            return unstructure(result)

        server.feature(method)(wrapper)
        return wrapper

    return decorator


def create_server() -> AgentServer:
    """Build the server with every feature wired; one place lists them all."""
    server = AgentServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        server.options, warnings = parse_options(params.initialization_options)
        config, config_warnings = load_config(server.options.agent)
        folders = [uri_to_path(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [uri_to_path(params.root_uri)]
        elif not folders and params.root_path:
            folders = [uri_to_path(params.root_path)]
        server.editor = LspEditor(server, permission_ui=server.options.permission_ui)
        server._service = AgentService(
            folders, server.editor, store_root=server.options.session_dir, config=config
        )
        server.editor.roots = server._service.roots
        warnings += config_warnings
        for warning in warnings:
            server.window_show_message(
                lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"agent-ls: {warning}")
            )

    @server.feature(lsp.INITIALIZED)
    def initialized(_: lsp.InitializedParams) -> None:
        server._watcher = asyncio.ensure_future(server.service.watch())
        server.service.provider()  # warm up: import the SDK in a thread before the first prompt

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(_: lsp.DidChangeWorkspaceFoldersParams) -> None:
        """pygls has updated its folder list; serve exactly those folders now."""
        folders = server.workspace.folders.values()
        server.service.set_folders([uri_to_path(f.uri) for f in folders])
        server.editor.roots = server.service.roots

    @server.feature(lsp.SHUTDOWN)
    def shutdown(_: Any) -> None:
        if server._watcher is not None:
            server._watcher.cancel()

    @handle(server, protocol.SESSION_LIST)
    def session_list(p: protocol.ListParams) -> dict[str, Any]:
        service = server.service
        infos, next_cursor = service.list_sessions(
            cursor=p.cursor,
            limit=p.limit,
            query=p.query,
            all_workspaces=p.all_workspaces,
            workspace=p.workspace,
        )
        result: dict[str, Any] = {"sessions": [session_info(server, i) for i in infos]}
        if next_cursor:
            result["nextCursor"] = next_cursor
        return result

    @handle(server, protocol.SESSION_NEW)
    def session_new(p: protocol.NewParams) -> dict[str, Any]:
        return session_info(server, server.service.new_session(name=p.name, workspace=p.workspace))

    @handle(server, protocol.SESSION_SWITCH)
    def session_switch(p: protocol.SessionParams) -> dict[str, Any]:
        return transcript(server, server.service.switch(p.session_id))

    @handle(server, protocol.SESSION_RESUME_RECENT)
    def session_resume_recent(p: protocol.WorkspaceParams) -> dict[str, Any]:
        return transcript(server, server.service.resume_recent(p.workspace))

    @handle(server, protocol.SESSION_HISTORY)
    def session_history(p: protocol.HistoryParams) -> dict[str, Any]:
        page = server.service.history(p.session_id, before=p.before, limit=p.limit)
        return {
            "items": protocol.transcript_items(page.entries, page.info.session_id),
            "hasMore": page.has_more,
        }

    @handle(server, protocol.SESSION_RENAME)
    def session_rename(p: protocol.RenameParams) -> dict[str, Any]:
        return session_info(server, server.service.rename(p.session_id, p.name))

    @handle(server, protocol.SESSION_DELETE)
    def session_delete(p: protocol.SessionParams) -> dict[str, Any]:
        server.service.delete(p.session_id)
        return {}

    @handle(server, protocol.SESSION_FORK)
    def session_fork(p: protocol.ForkParams) -> dict[str, Any]:
        return session_info(server, server.service.fork(p.session_id, p.entry_id))

    @handle(server, protocol.SESSION_PROMPT)
    async def session_prompt(p: protocol.PromptParams) -> dict[str, Any]:
        service, editor = server.service, server.editor
        session_id = service.prompt_target(p.session_id)
        editor.begin_progress(session_id, p.work_done_token)
        try:
            result, checkpoint = await service.prompt(session_id, p.prompt, p.context)
        finally:
            editor.end_progress(session_id, "done")
        out: dict[str, Any] = {
            "sessionId": session_id,
            "stopReason": result.stop_reason,
            "entryId": result.entry_id,
            "usage": protocol.usage_to_wire(result.usage),
        }
        if checkpoint:
            out["checkpointId"] = checkpoint
        if result.error:
            out["error"] = result.error
        return out

    @server.feature(protocol.SESSION_CANCEL)
    def session_cancel(p: Any) -> None:
        if isinstance(p, ParamsError):
            log.warning("ignoring agent/session/cancel: %s", p)
            return
        server.service.cancel(p.session_id)

    @handle(server, protocol.CHECKPOINT_LIST)
    def checkpoint_list(p: protocol.SessionParams) -> dict[str, Any]:
        return {"checkpoints": server.service.checkpoints(p.session_id)}

    @handle(server, protocol.CHECKPOINT_DIFF)
    def checkpoint_diff(p: protocol.CheckpointDiffParams) -> dict[str, Any]:
        return {"files": server.service.checkpoint_diff(p.checkpoint_id, p.uri)}

    @handle(server, protocol.CHECKPOINT_RESTORE)
    async def checkpoint_restore(p: protocol.CheckpointRestoreParams) -> dict[str, Any]:
        return await server.service.restore(
            p.checkpoint_id, scope=p.scope, dry_run=p.dry_run, force=p.force
        )

    @handle(server, protocol.PERMISSIONS_LIST)
    def permissions_list(p: protocol.SessionParams) -> dict[str, Any]:
        rules = server.service.permission_rules(p.session_id)
        return {"rules": [protocol.rule_to_wire(r) for r in rules]}

    @handle(server, protocol.PERMISSIONS_REVOKE)
    def permissions_revoke(p: protocol.RevokeParams) -> dict[str, Any]:
        return {"revoked": server.service.revoke_permission(p.session_id, p.rule_id)}

    return server


def session_info(server: AgentServer, info: Any) -> dict[str, Any]:
    service = server.service
    return protocol.session_info_to_wire(
        info, active=info.session_id == service.active, live=service.is_live(info.session_id)
    )


def transcript(server: AgentServer, page: Any) -> dict[str, Any]:
    return {
        "session": session_info(server, page.info),
        "items": protocol.transcript_items(page.entries, page.info.session_id),
        "hasMore": page.has_more,
    }


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
