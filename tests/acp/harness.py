"""Drive `agent-ls acp` over stdio: the SDK's client side, or raw JSON lines for bad input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION
from acp.client.connection import ClientSideConnection
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    EnvVariable,
    FileSystemCapabilities,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    TerminalOutputResponse,
    ToolCallUpdate,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)
from acp.stdio import spawn_agent_process

from tests.e2e.harness import server_env

AGENT = [sys.executable, "-m", "agent_ls", "acp"]


@dataclass
class Client:
    """An ACP client that records what the agent sends and answers as told.

    `buffers` are open editor buffers (unsaved text) served by fs/read_text_file; writes land
    there and on disk, as an editor that saves would do. `answers` are permission option ids,
    used in order; with none left the prompt is dismissed (cancelled).
    """

    buffers: dict[str, str] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)
    updates: list[tuple[str, Any]] = field(default_factory=list)
    asked: list[ToolCallUpdate] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    terminals: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    output: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    async def request_permission(
        self,
        session_id: str,
        tool_call: ToolCallUpdate,
        options: list[PermissionOption],
        **kwargs: Any,
    ) -> RequestPermissionResponse:
        self.asked.append(tool_call)
        if not self.answers:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        chosen = self.answers.pop(0)
        assert chosen in {o.option_id for o in options}
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen)
        )

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((session_id, update))

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, **kwargs: Any
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        text = self.buffers[path] if path in self.buffers else Path(path).read_text()
        return ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes.append((path, content))
        self.buffers[path] = content
        Path(path).write_text(content)
        return WriteTextFileResponse()

    async def create_terminal(
        self,
        session_id: str,
        command: str,
        args: list[str] | None = None,
        env: list[EnvVariable] | None = None,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> CreateTerminalResponse:
        """Run the command as an editor's terminal would, output and all."""
        self.commands.append([command, *(args or [])])
        process = await asyncio.create_subprocess_exec(
            command,
            *(args or []),
            cwd=cwd,
            env={**os.environ, **{v.name: v.value for v in env or []}},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        terminal_id = f"term-{len(self.terminals)}"
        self.terminals[terminal_id] = process
        return CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> WaitForTerminalExitResponse:
        process = self.terminals[terminal_id]
        assert process.stdout is not None
        self.output[terminal_id] = (await process.stdout.read()).decode()
        return WaitForTerminalExitResponse(exit_code=await process.wait())

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> TerminalOutputResponse:
        return TerminalOutputResponse(output=self.output.get(terminal_id, ""), truncated=False)

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.terminals[terminal_id].kill()

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.released.append(terminal_id)

    def kinds(self, session_id: str | None = None) -> list[str]:
        return [u.session_update for s, u in self.updates if session_id in (None, s)]

    def of(self, kind: str, session_id: str | None = None) -> list[Any]:
        return [u for s, u in self.updates if u.session_update == kind and session_id in (None, s)]

    async def wait_for(self, kind: str, session_id: str, timeout: float = 10) -> Any:
        """The first update of `kind` (those sent after a response arrive a moment later)."""
        async with asyncio.timeout(timeout):
            while not self.of(kind, session_id):
                await asyncio.sleep(0.01)
        return self.of(kind, session_id)[0]

    def text(self, session_id: str | None = None) -> str:
        return "".join(u.content.text for u in self.of("agent_message_chunk", session_id))


@dataclass
class Agent:
    conn: ClientSideConnection
    client: Client
    init: Any

    async def new(self, cwd: Path) -> str:
        return (await self.conn.new_session(cwd=str(cwd), mcp_servers=[])).session_id

    async def say(self, session_id: str, text: str) -> Any:
        from acp import text_block

        return await asyncio.wait_for(self.conn.prompt(session_id, [text_block(text)]), 60)

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        """A method the SDK's client has no call for (session/delete)."""
        return await self.conn._conn.send_request(method, params)


@contextlib.asynccontextmanager
async def connect(
    home: Path,
    *,
    env: dict[str, str] | None = None,
    fs: bool = True,
    terminal: bool = False,
    client: Client | None = None,
) -> AsyncIterator[Agent]:
    """`agent-ls acp` in a child process, initialized by a client that offers fs and terminals,
    or not."""
    client = client or Client()
    environment = server_env(home, env)
    async with spawn_agent_process(
        client, AGENT[0], *AGENT[1:], env=environment, transport_kwargs={"stderr": None}
    ) as (conn, _process):
        capabilities = ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=terminal
        )
        init = await asyncio.wait_for(
            conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=capabilities),
            60,
        )
        yield Agent(conn, client, init)


class Raw:
    """Raw JSON lines to and from the agent, for what the SDK will not send."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 100

    async def send(self, payload: Any) -> None:
        line = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        data = line.encode() if isinstance(line, str) else line
        assert self.process.stdin is not None
        self.process.stdin.write(data.rstrip(b"\n") + b"\n")
        await self.process.stdin.drain()

    async def read(self, timeout: float = 30) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        assert line, "the agent closed stdout"
        return json.loads(line)  # type: ignore[no-any-return]

    async def reply(self, request_id: Any, timeout: float = 30) -> dict[str, Any]:
        """Read until the response to `request_id`; notifications are skipped."""
        while True:
            message = await self.read(timeout)
            if "method" not in message and message.get("id") == request_id:
                return message

    async def call(self, method: str, params: Any = None) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await self.reply(self.next_id)


@contextlib.asynccontextmanager
async def raw(home: Path, *, env: dict[str, str] | None = None) -> AsyncIterator[Raw]:
    process = await asyncio.create_subprocess_exec(
        *AGENT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=server_env(home, env),
    )
    try:
        yield Raw(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
