"""The SDK's JSON-RPC connection, extended with what the ACP agent needs and 0.12.1 lacks.

- Every line gets an answer: a line that is not JSON is answered with a parse error (-32700),
  a message that is not a request, notification or response with an invalid request (-32600).
  The SDK logs and skips both, leaving a client waiting for a reply that never comes.
- `$/cancel_request` cancels the named request's handler; a handler that ends without a result
  answers -32800 (`session/prompt` keeps what streamed and answers `stopReason: "cancelled"`).
- `session/delete` is routed (the SDK's router has no route for it).
- A handler can queue work to run right after its response is written (`after_response`):
  updates that must reach the client after it knows the session (Zed drops the others).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from acp.agent.connection import AgentSideConnection
from acp.agent.router import build_agent_router
from acp.connection import Connection
from acp.interfaces import Agent
from acp.router import MessageRouter, Route
from acp.schema import CancelRequestNotification, DeleteSessionRequest
from acp.utils import normalize_result

from agent_ls.core.tasks import spawn

log = logging.getLogger(__name__)

CANCEL_REQUEST = "$/cancel_request"
SESSION_DELETE = "session/delete"
REQUEST_CANCELLED = -32800
LINE_LIMIT = 50 * 1024 * 1024

AfterResponse = Callable[[], Coroutine[Any, Any, None]]
_after_response: contextvars.ContextVar[list[AfterResponse] | None] = contextvars.ContextVar(
    "after_response", default=None
)


def after_response(work: AfterResponse) -> None:
    """Run `work` once the current request's response is written (now, outside a request)."""
    queued = _after_response.get()
    if queued is None:
        spawn(work(), "after response")
    else:
        queued.append(work)


def error_message(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def invalid_reason(message: Any) -> tuple[Any, str] | None:
    """(id to answer, why) when `message` is not a JSON-RPC request, notification or response."""
    if not isinstance(message, dict):
        kind = "a batch" if isinstance(message, list) else type(message).__name__
        return None, f"Invalid request: expected a JSON-RPC object, got {kind}"
    request_id = message.get("id")
    if request_id is not None and not isinstance(request_id, str | int):
        return None, "Invalid request: id must be a string, a number or null"
    if "method" in message:
        if not isinstance(message["method"], str):
            return request_id, "Invalid request: method must be a string"
        params = message.get("params")
        if params is not None and not isinstance(params, dict | list):
            return request_id, "Invalid request: params must be an object or an array"
        return None
    if "id" in message and ("result" in message or "error" in message):
        return None
    return request_id, "Invalid request: a message needs a method, or an id with a result"


class StdioTransport:
    """Newline-delimited JSON over asyncio streams, answering lines it cannot use."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")
        async with self._lock:
            self._writer.write(data)
            await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        while True:
            line = await self._read_line()
            if not line:
                return None
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except (ValueError, RecursionError) as exc:
                await self.send(error_message(None, -32700, f"Parse error: {exc}"))
                continue
            problem = invalid_reason(message)
            if problem is None:
                return message  # type: ignore[no-any-return]
            await self.send(error_message(problem[0], -32600, problem[1]))

    async def _read_line(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            try:
                chunks.append(await self._reader.readuntil(b"\n"))
                return b"".join(chunks)
            except asyncio.LimitOverrunError as exc:
                chunks.append(await self._reader.readexactly(exc.consumed))
            except asyncio.IncompleteReadError as exc:
                chunks.append(exc.partial)
                return b"".join(chunks)

    async def close(self) -> None:
        self._writer.close()


class AgentConnection(Connection):
    """The SDK connection with `$/cancel_request` and after-response work."""

    def __init__(self, handler: MessageRouter, transport: StdioTransport) -> None:
        super().__init__(handler, transport, listening=False)
        self._running: dict[str | int, asyncio.Task[Any]] = {}
        self._cancelled: set[str | int] = set()

    def cancel_request(self, request_id: str | int | None) -> None:
        task = None if request_id is None else self._running.get(request_id)
        if request_id is not None and task is not None and not task.done():
            self._cancelled.add(request_id)
            task.cancel()

    async def _run_request(self, message: dict[str, Any]) -> None:
        request_id = message["id"]
        queued: list[AfterResponse] = []
        _after_response.set(queued)
        task = asyncio.current_task()
        if task is not None:
            self._running[request_id] = task
        try:
            payload = await self._execute_request(message)
        except asyncio.CancelledError:
            if request_id not in self._cancelled or task is None:
                raise
            task.uncancel()
            payload = error_message(request_id, REQUEST_CANCELLED, "Request cancelled")
        finally:
            self._running.pop(request_id, None)
            self._cancelled.discard(request_id)
        await self._transport.send(payload)
        for work in queued:
            await work()


def agent_router(agent: Agent, connection: Callable[[], AgentConnection]) -> MessageRouter:
    """The SDK's agent routes (unstable ones on), plus session/delete and $/cancel_request."""
    router = build_agent_router(agent, use_unstable_protocol=True)
    router.route_request(
        SESSION_DELETE,
        DeleteSessionRequest,
        agent,
        "delete_session",
        adapt_result=normalize_result,
    )

    async def cancel(params: Any) -> None:
        request = CancelRequestNotification.model_validate(params)
        connection().cancel_request(request.request_id)

    router.add_route(Route(method=CANCEL_REQUEST, func=cancel, kind="notification"))
    return router


def agent_connection(agent: Agent, transport: StdioTransport) -> AgentSideConnection:
    """The SDK's agent side (typed client calls: updates, permission, fs) on our connection.

    `AgentSideConnection` builds its own router and connection and offers no way to pass
    either, so it is built unlistening and its connection replaced, here and nowhere else.
    """
    side = AgentSideConnection(agent, transport, listening=False, use_unstable_protocol=True)
    conn = AgentConnection(agent_router(agent, lambda: conn), transport)
    side._conn = conn  # type: ignore[attr-defined]
    return side


async def serve(side: AgentSideConnection) -> None:
    """Serve until the client closes stdin."""
    try:
        await side.listen()
    finally:
        await asyncio.shield(side.close())
