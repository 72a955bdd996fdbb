"""Session methods over stdio: list paging, load replay, resume, fork, delete, close; and the
same store as the language server, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from acp import RequestError

from agent_ls.sessions.store import SessionStore
from tests.acp.harness import Agent, Client, connect
from tests.e2e.harness import connect as connect_lsp
from tests.fakes.anthropic_server import FakeAnthropic


def tool_then_text(path: str, content: str, reply: str) -> list[dict]:
    return [
        {
            "content": [
                {
                    "type": "tool_use",
                    "name": "write_file",
                    "input": {"path": path, "content": content},
                }
            ]
        },
        {"content": [{"type": "text", "text": reply}]},
    ]


async def test_list_pages_newest_first_with_titles(
    workspace: Path, home: Path, env: dict[str, str]
) -> None:
    store = SessionStore(workspace, root=home)
    made = [store.create(name=f"session {i}").session_id for i in range(105)]
    store.close()
    async with connect(home, env=env) as agent:
        first = await agent.conn.list_sessions(cwd=str(workspace))
        assert len(first.sessions) == 100 and first.next_cursor
        second = await agent.conn.list_sessions(cwd=str(workspace), cursor=first.next_cursor)
        assert len(second.sessions) == 5 and second.next_cursor is None
        listed = [s.session_id for s in first.sessions + second.sessions]
        assert sorted(listed) == sorted(made)
        assert listed[0] == made[-1]
        top = first.sessions[0]
        assert top.title == "session 104" and top.cwd == str(workspace) and top.updated_at
        everywhere = await agent.conn.list_sessions()
        assert everywhere.sessions[0].session_id == made[-1]
        with pytest.raises(RequestError) as bad:
            await agent.conn.list_sessions(cwd=str(workspace), cursor="not a cursor")
        assert bad.value.code == -32602


async def test_load_replays_the_path_resume_does_not(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(*tool_then_text("out.txt", "x\n", "Wrote it."))
    async with connect(home, env=env) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "write a file")
    loader = Client()
    async with connect(home, env=env, client=loader) as agent:
        await agent.conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        kinds = [
            k
            for k in loader.kinds(sid)
            if k not in ("available_commands_update", "session_info_update")
        ]
        assert kinds == [
            "user_message_chunk",
            "tool_call",
            "tool_call_update",
            "agent_message_chunk",
        ]
        user = loader.of("user_message_chunk", sid)[0]
        assert user.content.text == "write a file" and user.message_id
        call = loader.of("tool_call", sid)[0]
        assert (call.kind, call.title) == ("edit", "Write out.txt")
        assert loader.of("tool_call_update", sid)[0].status == "completed"
        reply = loader.of("agent_message_chunk", sid)[0]
        assert reply.content.text == "Wrote it." and reply.message_id not in (None, user.message_id)
        replayed_once = len(loader.of("user_message_chunk", sid))
        await agent.conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        assert len(loader.of("user_message_chunk", sid)) == 2 * replayed_once
        before = len(loader.updates)
        await agent.conn.resume_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        replayed = [u for _, u in loader.updates[before:] if u.session_update.endswith("chunk")]
        assert replayed == []
        await agent.say(sid, "and again")
        assert loader.text(sid).endswith("Echo: and again")
        with pytest.raises(RequestError) as missing:
            await agent.conn.load_session(cwd=str(workspace), session_id="0" * 26, mcp_servers=[])
        assert missing.value.code == -32002


async def test_fork_delete_close(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    async with connect(home, env=env) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "one")
        await agent.say(sid, "two")
        store = SessionStore(workspace, root=home)
        first_reply = next(e for e in store.load(sid).path() if e.get("role") == "assistant")
        forked = await agent.conn.fork_session(
            cwd=str(workspace), session_id=sid, mcp_servers=[], entryId=first_reply["id"]
        )
        path = store.load(forked.session_id).path()
        assert [e.get("role") for e in path if e.get("type") == "message"] == ["user", "assistant"]
        await agent.say(forked.session_id, "three")
        await agent.request("session/delete", {"sessionId": forked.session_id})
        listed = [
            s.session_id for s in (await agent.conn.list_sessions(cwd=str(workspace))).sessions
        ]
        assert forked.session_id not in listed and sid in listed
        assert [i.session_id for i in store.trashed()] == [forked.session_id]
        await agent.request("session/delete", {"sessionId": forked.session_id})  # idempotent
        await agent.conn.close_session(session_id=sid)
        with pytest.raises(RequestError) as closed:
            await agent.say(sid, "after close")
        assert closed.value.code == -32002
        store.close()


async def test_a_session_moves_between_lsp_and_acp(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    """Started over LSP with a file change; listed, loaded, rewound (/rewind reverts the LSP
    turn's files) and continued over ACP; seen again over LSP."""
    notes = workspace / "notes.txt"
    notes.write_text("before\n")
    api.enqueue(*tool_then_text("notes.txt", "after lsp\n", "Changed it."))
    async with connect_lsp([workspace], home, env=env) as lsp:
        made = await lsp.request("agent/session/new", {})
        prompt = {"sessionId": made["sessionId"], "prompt": "from lsp"}
        await lsp.request("agent/session/prompt", prompt)
    sid = made["sessionId"]
    assert notes.read_text() == "after lsp\n"
    async with connect(home, env=env, fs=False) as agent:
        listed = (await agent.conn.list_sessions(cwd=str(workspace))).sessions
        assert [s.session_id for s in listed] == [sid]
        await agent.conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[])
        assert agent.client.text(sid) == "Changed it."
        rewound = await reply(agent, sid, "/rewind 1 files")
        assert "Rewound to just before message 1 (files)" in rewound
        assert notes.read_text() == "before\n"
        await agent.say(sid, "from acp")
        other = await agent.new(workspace)
        await agent.say(other, "made in acp")
    async with connect_lsp([workspace], home, env=env) as lsp:
        page = await lsp.request("agent/session/switch", {"sessionId": sid})
        texts = [
            block["text"]
            for item in page["items"]
            if item["kind"] in ("user", "assistant") and isinstance(item["content"], list)
            for block in item["content"]
            if block.get("type") == "text"
        ]
        assert texts == ["from lsp", "Changed it.", "from acp", "Echo: from acp"]
        listed = await lsp.request("agent/session/list", {})
        assert {s["sessionId"] for s in listed["sessions"]} == {sid, other}


async def reply(agent: Agent, sid: str, command: str) -> str:
    before = len(agent.client.of("agent_message_chunk", sid))
    await agent.say(sid, command)
    return "".join(c.content.text for c in agent.client.of("agent_message_chunk", sid)[before:])
