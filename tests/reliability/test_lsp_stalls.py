"""The wire's own work does not hold up the editor: titling every tool call of a reloaded page,
and polling a large store every 50 ms, measured with the loop-stall probe."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.e2e.harness import connect
from tests.reliability.stall import raw_stall_probe, stall_probe
from tests.reliability.support import raw_server, record, scaled

pytestmark = pytest.mark.reliability

STALL_LIMIT_MS = 250


def tool_heavy_session(home: Path, workspace: Path, messages: int, calls: int) -> str:
    """A session whose last page is assistant messages of `calls` tool_use blocks each."""
    from agent_ls.sessions import SessionStore

    store = SessionStore(workspace, root=home)
    sid = store.create(name="tools").session_id
    with store.writer(sid) as writer:
        for m in range(messages):
            uses = [
                {
                    "type": "tool_use",
                    "id": f"tu_{m}_{c}",
                    "name": ("read_file", "edit_file", "grep", "run_command")[c % 4],
                    "input": {
                        "path": f"src/deep/dir/file_{c}.py",
                        "command": "make",
                        "pattern": "x",
                    },
                }
                for c in range(calls)
            ]
            writer.append({"type": "message", "role": "assistant", "content": uses})
    store.close()
    return sid


def test_switching_to_a_page_of_many_tool_calls_does_not_stall(tmp_path: Path) -> None:
    """Measured with the raw client (a thread parses replies): pytest-lsp's own parsing of a
    large page would count as a stall of the server."""
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    calls = scaled(10)  # 500 tool calls on one page: a long agentic session
    sid = tool_heavy_session(home, workspace, messages=50, calls=calls)
    with raw_server(home, workspace) as server:
        started = time.monotonic()
        with raw_stall_probe(server) as probe:
            for _ in range(5):
                page = server.call("agent/session/switch", {"sessionId": sid}, 60)["result"]
        elapsed = time.monotonic() - started
    titled = [c for item in page["items"] for c in item.get("toolCalls", [])]
    assert len(titled) == 50 * calls and all(c["title"] for c in titled)
    assert titled[0]["title"] == "Read src/deep/dir/file_0.py"
    assert probe.longest_ms < STALL_LIMIT_MS, probe
    record(f"stall: 5 switches to a page of {50 * calls} tool calls", f"{probe}, {elapsed:.2f} s")


async def test_a_fast_store_watch_does_not_stall(tmp_path: Path) -> None:
    from agent_ls.sessions import SessionStore

    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    store = SessionStore(workspace, root=home)
    for _ in range(scaled(300)):
        store.create()
    store.close()
    options = {"watchInterval": 0.05}
    async with (
        connect([workspace], home, options=options) as agent,
        stall_probe(agent) as probe,
    ):
        while probe.pings < 20:  # a second of pings, about twenty polls of the store
            await asyncio.sleep(0.05)
    assert probe.longest_ms < STALL_LIMIT_MS, probe
    record(f"stall: store of {scaled(300)} sessions polled every 50 ms", str(probe))
