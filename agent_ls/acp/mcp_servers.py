"""The MCP servers an ACP client passes with a session: connected with the `mcp` SDK over stdio,
streamable HTTP or SSE, their tools offered to the model beside the built-in ones, through the
same permission flow.

Each server lives in its own task (the SDK's transports must be entered and left in one task)
from the session's opening to its closing. A turn waits for the connections to be made; a server
that cannot start is reported once and its tools are left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp.schema import HttpMcpServer, McpServerStdio, SseMcpServer

from agent_ls.agent.host import HostTool
from agent_ls.core.tasks import spawn

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 30.0
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")
Spec = McpServerStdio | HttpMcpServer | SseMcpServer


def tool_name(server: str, tool: str) -> str:
    """`mcp__SERVER__TOOL` in the characters and length tool names may have."""
    return _NOT_A_NAME.sub("_", f"mcp__{server}__{tool}")[:64]


@dataclass
class _Server:
    spec: Spec
    ready: asyncio.Future[tuple[Any, list[Any]]]
    task: asyncio.Task[None] | None = None
    tools: list[HostTool] = field(default_factory=list)
    settled: bool = False  # connected, or its failure told


class McpServers:
    """The MCP servers of one session."""

    def __init__(self, specs: Sequence[Any], cwd: Path) -> None:
        self.cwd = cwd
        self.problems: list[str] = []
        self._closing = asyncio.Event()
        self._servers = []
        for spec in specs:
            if isinstance(spec, McpServerStdio | HttpMcpServer | SseMcpServer):
                future = asyncio.get_running_loop().create_future()
                self._servers.append(_Server(spec, future))
            else:
                kind = getattr(spec, "type", type(spec).__name__)
                self.problems.append(
                    f"MCP server {spec.name}: the {kind} transport is not supported; "
                    "use stdio, http or sse"
                )
        for server in self._servers:
            server.task = spawn(self._run(server), f"mcp {server.spec.name}")

    async def _run(self, server: _Server) -> None:
        spec = server.spec
        try:
            sdk = await asyncio.to_thread(importlib.import_module, "mcp")
            async with (
                self._streams(spec) as (read, write),
                sdk.ClientSession(read, write) as session,
            ):
                await session.initialize()
                listed = await session.list_tools()
                server.ready.set_result((session, list(listed.tools)))
                await self._closing.wait()
        except Exception as exc:  # the server would not start or died: its tools are gone
            if not server.ready.done():
                server.ready.set_exception(exc)
            log.warning("MCP server %s: %s", spec.name, exc)

    @contextlib.asynccontextmanager
    async def _streams(self, spec: Spec) -> AsyncIterator[tuple[Any, Any]]:
        """The SDK's read and write streams for one server, by its transport."""
        if isinstance(spec, McpServerStdio):
            stdio = await asyncio.to_thread(importlib.import_module, "mcp.client.stdio")
            sdk = importlib.import_module("mcp")
            params = sdk.StdioServerParameters(
                command=spec.command,
                args=list(spec.args),
                env={v.name: v.value for v in spec.env} or None,
                cwd=self.cwd,
            )
            async with stdio.stdio_client(params) as (read, write):
                yield read, write
            return
        headers = {h.name: h.value for h in spec.headers}
        if isinstance(spec, SseMcpServer):
            sse = await asyncio.to_thread(importlib.import_module, "mcp.client.sse")
            async with sse.sse_client(spec.url, headers=headers) as (read, write):
                yield read, write
            return
        http = await asyncio.to_thread(importlib.import_module, "mcp.client.streamable_http")
        httpx_utils = importlib.import_module("mcp.shared._httpx_utils")
        async with (
            httpx_utils.create_mcp_http_client(headers=headers) as client,
            http.streamable_http_client(spec.url, http_client=client) as (read, write, _),
        ):
            yield read, write

    async def ready(self) -> list[str]:
        """Wait for every server; what went wrong, once, as sentences for the user."""
        for server in self._servers:
            if server.settled:
                continue
            server.settled = True
            try:
                session, tools = await asyncio.wait_for(
                    asyncio.shield(server.ready), CONNECT_TIMEOUT
                )
            except Exception as exc:
                self.problems.append(
                    f"MCP server {server.spec.name} could not start ({exc or type(exc).__name__}):"
                    f" check {_where(server.spec)}; its tools are not available"
                )
                continue
            server.tools = [self._tool(server.spec.name, session, t) for t in tools]
        problems, self.problems = self.problems, []
        return problems

    def _tool(self, server: str, session: Any, tool: Any) -> HostTool:
        async def call(arguments: Any) -> tuple[str, bool]:
            result = await session.call_tool(tool.name, dict(arguments))
            parts = [getattr(c, "text", None) or f"[{c.type} content]" for c in result.content]
            return "\n".join(parts) or "(no output)", bool(result.isError)

        return HostTool(
            name=tool_name(server, tool.name),
            description=tool.description or f"{tool.name} from the MCP server {server}",
            schema=tool.inputSchema or {"type": "object"},
            title=f"{server}: {tool.name}",
            call=call,
        )

    def tools(self) -> list[HostTool]:
        return [tool for server in self._servers for tool in server.tools]

    async def close(self) -> None:
        """Stop every server (their tasks leave the SDK's contexts, which ends the processes)."""
        self._closing.set()
        tasks = [s.task for s in self._servers if s.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)


def _where(spec: Spec) -> str:
    """What the user should check when a server does not start."""
    if isinstance(spec, McpServerStdio):
        return f"its command `{spec.command}`"
    return f"that {spec.url} is up and answers MCP over {spec.type}"
