"""`agent-ls acp` stays responsive while it replays a long session and while a turn streams:
`session/list` pings every 50 ms (raw JSON lines, parsed without the SDK's models, so the
client's own parsing does not count) and the longest wait is the loop's longest stall."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.acp.harness import Raw, raw
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import INTERVAL, Stall
from tests.reliability.support import record, scaled

pytestmark = pytest.mark.reliability

STALL_LIMIT_MS = 500  # the LSP suite allows 300; an ACP client parses every update too


class Router:
    """Reads every line the agent writes; answers go to whoever waits for their id."""

    def __init__(self, agent: Raw) -> None:
        self.agent = agent
        self.waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self.updates = 0
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.agent.read(120)
            if message.get("method") == "session/update":
                self.updates += 1
            elif "method" not in message and message.get("id") in self.waiting:
                self.waiting.pop(message["id"]).set_result(message)

    async def call(self, method: str, params: Any) -> dict[str, Any]:
        self.agent.next_id += 1
        future = self.waiting[self.agent.next_id] = asyncio.get_running_loop().create_future()
        request = {"jsonrpc": "2.0", "id": self.agent.next_id, "method": method, "params": params}
        await self.agent.send(request)
        return await asyncio.wait_for(future, 120)


@contextlib.asynccontextmanager
async def probe(router: Router, cwd: Path) -> AsyncIterator[Stall]:
    stall = Stall()
    stopping = asyncio.Event()

    async def pings() -> None:
        while not stopping.is_set():
            started = time.monotonic()
            await router.call("session/list", {"cwd": str(cwd)})
            stall.add(time.monotonic() - started, answered=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), INTERVAL)

    task = asyncio.ensure_future(pings())
    try:
        yield stall
    finally:
        stopping.set()
        await task


def long_session(home: Path, workspace: Path, turns: int) -> str:
    from agent_ls.sessions.store import SessionStore

    store = SessionStore(workspace, root=home)
    sid = store.create(name="long").session_id
    with store.writer(sid) as writer:
        for t in range(turns):
            use = {"type": "tool_use", "id": f"tu_{t}", "name": "read_file", "input": {"path": "a"}}
            writer.append(
                {"type": "message", "role": "user", "content": [{"type": "text", "text": f"q{t}"}]}
            )
            writer.append({"type": "message", "role": "assistant", "content": [use]})
            result = {"type": "tool_result", "tool_use_id": f"tu_{t}", "content": "x" * 200}
            writer.append({"type": "message", "role": "tool_result", "content": [result]})
            writer.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "answer " * 20}],
                }
            )
    store.close()
    return sid


async def test_load_of_a_long_session_and_a_streaming_turn_do_not_stall(
    tmp_path: Path,
) -> None:
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    turns = scaled(500)
    sid = long_session(home, workspace, turns)
    with FakeAnthropic() as api:
        api.enqueue({"content": [{"type": "text", "text": "word " * 3000}], "chunk_size": 4})
        env = {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test"}
        async with raw(home, env=env) as agent:
            router = Router(agent)
            await router.call("initialize", {"protocolVersion": 1})
            async with probe(router, workspace) as loading:
                loaded = await router.call(
                    "session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []}
                )
            assert "result" in loaded and router.updates >= 4 * turns
            async with probe(router, workspace) as streaming:
                prompt = [{"type": "text", "text": "talk"}]
                reply = await router.call("session/prompt", {"sessionId": sid, "prompt": prompt})
            assert reply["result"]["stopReason"] == "end_turn"
            router.task.cancel()
    record("acp load of a long session: longest stall (ms)", round(loading.longest_ms))
    record("acp streaming turn (3000 deltas): longest stall (ms)", round(streaming.longest_ms))
    assert loading.pings >= 1 and streaming.pings >= 1
    assert loading.longest_ms < STALL_LIMIT_MS, loading
    assert streaming.longest_ms < STALL_LIMIT_MS, streaming
