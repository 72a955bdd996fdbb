"""The MCP servers an ACP client passes with a session: connected over stdio with the `mcp` SDK,
their tools offered to the model beside the built-in ones, through the same permission flow.

Each server lives in its own task (the SDK's stdio client must be entered and left in one task)
from the session's opening to its closing. A turn waits for the connections to be made; a server
that cannot start is reported once and its tools are left out.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp.schema import McpServerStdio

from agent_ls.agent.host import HostTool
from agent_ls.core.tasks import spawn

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 30.0
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """`mcp__SERVER__TOOL` in the characters and length tool names may have."""
    return _NOT_A_NAME.sub("_", f"mcp__{server}__{tool}")[:64]


@dataclass
class _Server:
    spec: McpServerStdio
    ready: asyncio.Future[tuple[Any, list[Any]]]
    task: asyncio.Task[None] | None = None
    tools: list[HostTool] = field(default_factory=list)
    settled: bool = False  # connected, or its failure told


class McpServers:
    """The stdio MCP servers of one session."""

    def __init__(self, specs: Sequence[Any], cwd: Path) -> None:
        self.cwd = cwd
        self.problems: list[str] = []
        self._closing = asyncio.Event()
        self._servers = []
        for spec in specs:
            if isinstance(spec, McpServerStdio):
                future = asyncio.get_running_loop().create_future()
                self._servers.append(_Server(spec, future))
            else:
                kind = type(spec).__name__
                self.problems.append(f"MCP server {spec.name}: {kind} is not supported, only stdio")
        for server in self._servers:
            server.task = spawn(self._run(server), f"mcp {server.spec.name}")

    async def _run(self, server: _Server) -> None:
        spec = server.spec
        try:
            stdio = await asyncio.to_thread(importlib.import_module, "mcp.client.stdio")
            sdk = importlib.import_module("mcp")
            params = sdk.StdioServerParameters(
                command=spec.command,
                args=list(spec.args),
                env={v.name: v.value for v in spec.env} or None,
                cwd=self.cwd,
            )
            async with (
                stdio.stdio_client(params) as (read, write),
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
                    f" check its command `{server.spec.command}`; its tools are not available"
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
