"""session/prompt over stdio: streaming, content blocks, tool calls, permission, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, resource_link_block, text_block
from acp.schema import (
    EmbeddedResourceContentBlock,
    HttpHeader,
    HttpMcpServer,
    McpServerStdio,
    SseMcpServer,
    TextResourceContents,
)

from tests.acp.harness import Client, connect
from tests.fakes.anthropic_server import FakeAnthropic

MCP_SERVER = Path(__file__).parent / "mcp_server.py"


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": name, "input": tool_input}]}


def say(text: str, **extra: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], **extra}


async def test_text_turn_streams_chunks_with_one_message_id(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(
        {
            "content": [
                {"type": "thinking", "thinking": "Let me think."},
                {"type": "text", "text": "Hello from the fake model, in small pieces."},
            ],
            "chunk_size": 5,
            "delay_ms": 20,  # deltas over several 16 ms frames: more than one chunk goes out
        }
    )
    async with connect(home, env=env) as agent:
        sid = await agent.new(workspace)
        (workspace / "a.py").write_text("x = 1\n")
        selection = EmbeddedResourceContentBlock(
            type="resource",
            resource=TextResourceContents(uri=(workspace / "b.py").as_uri(), text="y = 2"),
        )
        result = await asyncio.wait_for(
            agent.conn.prompt(
                sid,
                [
                    text_block("explain"),
                    resource_link_block("a.py", (workspace / "a.py").as_uri()),
                    selection,
                ],
            ),
            60,
        )
        client = agent.client
        assert result.stop_reason == "end_turn"
        assert result.usage is not None and result.usage.output_tokens > 0
        chunks = client.of("agent_message_chunk", sid)
        assert len(chunks) > 1
        assert client.text(sid) == "Hello from the fake model, in small pieces."
        assert len({c.message_id for c in chunks}) == 1
        thoughts = client.of("agent_thought_chunk", sid)
        assert "".join(t.content.text for t in thoughts) == "Let me think."
        usage = client.of("usage_update", sid)
        assert usage and usage[-1].size == 200_000 and usage[-1].used > 0
        assert client.of("available_commands_update", sid)
        assert client.of("session_info_update", sid)[-1].title.startswith("explain")
    sent = api.requests[-1]["body"]["messages"][0]["content"]
    texts = [b["text"] for b in sent]
    assert texts[0] == "explain"
    assert texts[1] == f"Attached file: {(workspace / 'a.py').as_uri()}"
    assert "y = 2" in texts[2] and "b.py" in texts[2]


async def test_edit_goes_through_the_clients_buffer_and_is_checkpointed(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    """The agent edits the unsaved buffer (fs/read_text_file) and writes through the client
    (fs/write_text_file); a new file is written on disk; the checkpoint holds both."""
    target = workspace / "app.py"
    target.write_text("print('on disk')\n")
    client = Client(buffers={str(target): "print('unsaved')\n"})
    api.enqueue(
        tool("edit_file", path="app.py", old_string="unsaved", new_string="edited"),
        tool("write_file", path="new.txt", content="fresh\n"),
        say("Done."),
    )
    async with connect(home, env=env, client=client) as agent:
        sid = await agent.new(workspace)
        result = await agent.say(sid, "edit it")
        assert result.stop_reason == "end_turn"
        assert client.reads == [str(target)]
        assert client.writes == [(str(target), "print('edited')\n")]
        assert target.read_text() == "print('edited')\n"
        assert (workspace / "new.txt").read_text() == "fresh\n"
        start = client.of("tool_call", sid)[0]
        assert (start.kind, start.title, start.status) == ("edit", "Edit app.py", "pending")
        assert [loc.path for loc in start.locations] == [str(target)]
        done = [u for u in client.of("tool_call_update", sid) if u.status == "completed"]
        diff = done[0].content[0]
        assert diff.type == "diff" and diff.path == str(target)
        assert (diff.old_text, diff.new_text) == ("print('unsaved')\n", "print('edited')\n")
        await agent.say(sid, "/checkpoints")
        listing = client.text(sid).split("Done.")[-1]
        assert (
            "1. " in listing and "app.py (modified)" in listing and "new.txt (created)" in listing
        )
        await agent.say(sid, "/rewind 1")
        assert target.read_text() == "print('unsaved')\n"
        assert not (workspace / "new.txt").exists()


async def test_without_client_fs_the_agent_edits_the_disk(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    target = workspace / "app.py"
    target.write_text("a\n")
    api.enqueue(tool("write_file", path="app.py", content="b\n"), say("ok"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "write")
        assert target.read_text() == "b\n"
        assert agent.client.reads == [] and agent.client.writes == []
        await agent.say(sid, "/revert")
        assert target.read_text() == "a\n"
        assert "Reverted checkpoint 1 and later (files)" in agent.client.text(sid)


async def test_permission_reject_once_then_allow_always(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    """ "Always" holds for that exact command (the trust rules): asked twice, run three times."""
    client = Client(answers=["reject_once", "allow_always"])
    api.enqueue(
        tool("run_command", command="echo one > one.txt"),
        tool("run_command", command="echo two >> two.txt"),
        tool("run_command", command="echo two >> two.txt"),
        say("ran"),
    )
    async with connect(home, env=env, client=client) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "run things")
        assert [c.title for c in client.asked] == [
            "Run `echo one > one.txt`",
            "Run `echo two >> two.txt`",
        ]
        assert client.asked[0].kind == "execute"
        shown = client.asked[1].content[0].content.text
        assert shown == "The agent wants to run this command:\n\necho two >> two.txt"
        assert not (workspace / "one.txt").exists()
        assert (workspace / "two.txt").read_text() == "two\ntwo\n"
        statuses = [
            u.status for u in client.of("tool_call_update", sid) if u.status != "in_progress"
        ]
        assert statuses == ["failed", "completed", "completed"]


async def test_cancel_keeps_what_streamed(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(say("word " * 200, chunk_size=5, delay_ms=20))
    async with connect(home, env=env) as agent:
        sid = await agent.new(workspace)
        turn = asyncio.ensure_future(agent.say(sid, "talk"))
        while not agent.client.of("agent_message_chunk", sid):
            await asyncio.sleep(0.01)
        await agent.conn.cancel(sid)
        result = await turn
        assert result.stop_reason == "cancelled"
        streamed = agent.client.text(sid)
        assert 0 < len(streamed) < len("word " * 200)
        load = Client()
    async with connect(home, env=env, client=load) as again:
        await again.conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        assert load.text(sid).startswith(streamed.strip()[:20])


async def test_commands_run_in_the_clients_terminal_when_it_offers_one(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    client = Client(answers=["allow_once", "allow_once"])
    api.enqueue(
        tool("run_command", command="echo $PAGER from the terminal > made.txt; cat made.txt"),
        tool("run_command", command="exit 3"),
        say("ran"),
    )
    async with connect(home, env=env, client=client, terminal=True) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "run it")
        assert client.commands[0][:2] == ["/bin/sh", "-c"]
        assert (workspace / "made.txt").read_text() == "cat from the terminal\n"
        shown = [u for u in client.of("tool_call_update", sid) if u.content]
        assert shown[0].content[0].type == "terminal"
        assert shown[0].content[0].terminal_id == "term-0"
        assert client.released == ["term-0", "term-1"]
        await agent.say(sid, "/checkpoints")
        assert "made.txt (created)" in client.text(sid)  # the scan saw what the command made
    results = api.requests[-1]["body"]["messages"][-1]["content"]
    assert results[0]["content"] == "Exit code 3 (no output)"
    first = api.requests[-2]["body"]["messages"][-1]["content"][0]["content"]
    assert first == "Exit code 0\ncat from the terminal"


async def test_a_failed_turn_answers_an_error_and_stays_in_the_file_as_a_branch(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue({"error": {"status": 400, "message": "the fake API refuses"}})
    async with connect(home, env=env) as agent:
        sid = await agent.new(workspace)
        with pytest.raises(RequestError) as failed:
            await agent.say(sid, "doomed")
        assert failed.value.code == -32603
        assert failed.value.data["kind"] == "turn_failed"
        assert "refuses" in failed.value.data["message"]
        assert (await agent.say(sid, "again")).stop_reason == "end_turn"
        # the next prompt attaches before the failed one: it is never merged into it
        assert agent.client.text(sid) == "Echo: again"
    from agent_ls.sessions.store import SessionStore

    session = SessionStore(workspace, root=home).load(sid)
    users = [e["content"][0]["text"] for e in session.path() if e.get("role") == "user"]
    assert users == ["again"]
    stored = [e for e in session.entries.values() if e.get("type") != "leaf"]
    assert [e["content"][0]["text"] for e in stored if e.get("role") == "user"] == [
        "doomed",
        "again",
    ]  # the failed prompt is kept in the file, as a branch
    [ended] = [e for e in stored if e["type"] == "turn_end"]
    assert ended["stopReason"] == "error" and "refuses" in ended["error"]


async def test_mcp_server_tools_are_offered_and_go_through_the_permission_flow(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    demo = McpServerStdio(name="demo", command=sys.executable, args=[str(MCP_SERVER)], env=[])
    broken = McpServerStdio(name="broken", command="/nonexistent/server", args=[], env=[])
    client = Client(answers=["allow_once", "reject_once"])
    api.enqueue(
        tool("mcp__demo__shout", text="hello"),
        tool("mcp__demo__fail", reason="no"),
        say("done"),
    )
    async with connect(home, env=env, client=client) as agent:
        new = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[demo, broken])
        sid = new.session_id
        await agent.say(sid, "use the tools")
        assert [c.title for c in client.asked] == ["demo: shout", "demo: fail"]
        start = client.of("tool_call", sid)[0]
        assert (start.kind, start.title) == ("other", "demo: shout")
        assert "broken could not start" in client.text(sid)
    sent = api.requests[0]["body"]
    names = {t["name"] for t in sent["tools"]}
    assert {"mcp__demo__shout", "mcp__demo__fail", "read_file"} <= names
    results = api.requests[1]["body"]["messages"][-1]["content"]
    assert results[0]["content"] == "HELLO!"
    refused = api.requests[2]["body"]["messages"][-1]["content"][0]
    assert refused.get("is_error") and "declined" in refused["content"]


async def test_an_edit_under_review_asks_with_its_diff_and_a_command_reports_how_it_ended(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    (workspace / "app.py").write_text("x = 1\n")
    client = Client(answers=["reject_once", "allow_once"])
    api.enqueue(
        tool("edit_file", path="app.py", old_string="x = 1", new_string="x = 2"),
        tool("run_command", command="echo out; exit 5"),
        say("done"),
    )
    async with connect(home, env=env, client=client) as agent:
        sid = await agent.new(workspace)
        await agent.conn.set_session_mode(session_id=sid, mode_id="ask")
        await agent.say(sid, "change it")
        diff = client.asked[0].content[1]
        assert (diff.type, diff.old_text, diff.new_text) == ("diff", "x = 1\n", "x = 2\n")
        assert (workspace / "app.py").read_text() == "x = 1\n"  # rejected: nothing written
        [ran] = [u for u in client.of("tool_call_update", sid) if u.raw_output]
        assert ran.raw_output == {"exitCode": 5, "truncated": False}
        assert ran.content[0].content.text == "out\nExit code 5"


@contextlib.contextmanager
def mcp_over(transport: str) -> Iterator[int]:
    """The demo MCP server on a free 127.0.0.1 port over `transport` (http or sse)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(MCP_SERVER), f"--{transport}", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "MCP server down"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


async def test_mcp_servers_over_http_and_sse_are_used_with_their_headers(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    client = Client(answers=["allow_once", "allow_once"])
    api.enqueue(
        tool("mcp__web__shout", text="over http"),
        tool("mcp__events__shout", text="over sse"),
        say("done"),
    )
    header = [HttpHeader(name="X-Demo", value="1")]
    with mcp_over("http") as http_port, mcp_over("sse") as sse_port:
        web = HttpMcpServer(
            type="http", name="web", url=f"http://127.0.0.1:{http_port}/mcp", headers=header
        )
        events = SseMcpServer(
            type="sse", name="events", url=f"http://127.0.0.1:{sse_port}/sse", headers=header
        )
        gone = HttpMcpServer(type="http", name="gone", url="http://127.0.0.1:9/mcp", headers=[])
        async with connect(home, env=env, client=client) as agent:
            new = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[web, events, gone])
            await agent.say(new.session_id, "use both")
            assert "gone could not start" in client.text(new.session_id)
            assert "http://127.0.0.1:9/mcp is up" in client.text(new.session_id)
    results = [r["body"]["messages"][-1]["content"][0]["content"] for r in api.requests[1:]]
    assert results == ["OVER HTTP!", "OVER SSE!"]
