"""Rewind to a message, all-or-nothing reverts, export: as slash commands and extension methods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acp import RequestError

from tests.acp.harness import Agent, connect
from tests.acp.test_commands import reply_to, say, write
from tests.fakes.anthropic_server import FakeAnthropic


def user_texts(request: dict[str, Any]) -> list[str]:
    """The user prompts a request to the model carried, in order."""
    texts = []
    for message in request["body"]["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts += [
            b["text"] for b in blocks if b.get("type") == "text" and message["role"] == "user"
        ]
    return texts


async def message_ids(agent: Agent, sid: str, cwd: Path) -> list[str]:
    """The session's user message ids, oldest first, as a client learns them: a load's replay."""
    before = len(agent.client.of("user_message_chunk", sid))
    await agent.conn.load_session(cwd=str(cwd), session_id=sid, mcp_servers=[])
    chunks = agent.client.of("user_message_chunk", sid)[before:]
    return list(dict.fromkeys(c.message_id for c in chunks))


async def test_rewind_to_the_second_of_four_messages_and_undo_it(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    notes, extra = workspace / "notes.txt", workspace / "extra.txt"
    notes.write_text("v0\n")
    api.enqueue(
        write("notes.txt", "v1\n"),
        say("one"),
        write("notes.txt", "v2\n"),
        say("two"),
        write("extra.txt", "new\n"),
        say("three"),
        write("notes.txt", "v4\n"),
        say("four"),
    )
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        for prompt in ("first", "second\nmore lines", "third", "fourth"):
            await agent.say(sid, prompt)
        listing = await reply_to(agent, sid, "/rewind")
        assert "1. " in listing and "“fourth”" in listing
        assert listing.index("“fourth”") < listing.index("“third”") < listing.index("“first”")
        assert "3. " in listing and "“second”" in listing and "more lines" not in listing
        assert "“second” — files changed since: 2" in listing
        assert "“fourth” — files changed since: 1" in listing

        rewound = await reply_to(agent, sid, "/rewind 3")
        assert "Rewound to just before message 3 (both)" in rewound and "/undo" in rewound
        assert notes.read_text() == "v1\n" and not extra.exists()
        await agent.say(sid, "after the rewind")
        assert user_texts(api.requests[-1]) == ["first", "after the rewind"]

        undone = await reply_to(agent, sid, "/undo")
        assert "Undid the last rewind or revert" in undone
        assert notes.read_text() == "v4\n" and extra.read_text() == "new\n"
        await agent.say(sid, "fifth")
        assert user_texts(api.requests[-1]) == [
            "first",
            "second\nmore lines",
            "third",
            "fourth",
            "fifth",
        ]
        assert "not a message number" in await reply_to(agent, sid, "/rewind 9")
        assert "Usage: /rewind" in await reply_to(agent, sid, "/rewind 1 files both")


async def test_a_conflicting_rewind_changes_nothing_until_partial(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    a, b = workspace / "a.txt", workspace / "b.txt"
    a.write_text("a0\n")
    b.write_text("b0\n")
    api.enqueue(write("a.txt", "a1\n"), say("one"), write("b.txt", "b1\n"), say("two"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "change a")
        await agent.say(sid, "change b")
        a.write_text("mine\n")  # the user's edit overlaps the agent's

        plan = await reply_to(agent, sid, "/rewind 2 files")
        assert "Nothing was changed: 1 of 2 files conflict" in plan
        assert f"{a}: conflict" in plan and f"{b}: would be restored" in plan
        assert "`/rewind 2 files partial`" in plan and "`/rewind 2 files force`" in plan
        assert a.read_text() == "mine\n" and b.read_text() == "b1\n"
        assert "Nothing to undo" in await reply_to(agent, sid, "/undo")  # no undo checkpoint

        done = await reply_to(agent, sid, "/rewind 2 files partial")
        assert "Rewound to just before message 2 (files)" in done
        assert f"{a}: skipped (it conflicts)" in done and f"{b}: restored" in done
        assert a.read_text() == "mine\n" and b.read_text() == "b0\n"
        assert "Undid" in await reply_to(agent, sid, "/undo")
        assert a.read_text() == "mine\n" and b.read_text() == "b1\n"

        plan = await reply_to(agent, sid, "/revert 4")  # the first turn's (undos are 1 and 2)
        assert "Nothing was changed" in plan and "`/revert 4 files force`" in plan
        assert "Reverted checkpoint 4" in await reply_to(agent, sid, "/revert 4 force")
        assert a.read_text() == "a0\n" and b.read_text() == "b0\n"
        assert "Undid" in await reply_to(agent, sid, "/undo")
        assert a.read_text() == "mine\n" and b.read_text() == "b1\n"


async def test_export_answers_markdown_or_writes_a_file(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(say("Hello from the fake model"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "greet me")
        markdown = await reply_to(agent, sid, "/export")
        assert markdown.startswith("#") and "greet me" in markdown
        assert "Hello from the fake model" in markdown
        written = await reply_to(agent, sid, "/export html out dir/t.html")
        assert "Nothing was exported" in written and "is not a folder" in written
        (workspace / "out dir").mkdir()
        written = await reply_to(agent, sid, "/export html out dir/t.html")
        assert f"to {workspace / 'out dir' / 't.html'}" in written
        assert "greet me" in (workspace / "out dir" / "t.html").read_text()
        assert "give a file" in await reply_to(agent, sid, "/export bundle")
        answer = await agent.conn.ext_method(
            "agent-ls/session/export", {"sessionId": sid, "format": "jsonl"}
        )
        assert '"greet me"' in answer["content"]


async def test_extension_methods_rewind_revert_hunks_export_and_import(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    code = workspace / "code.txt"
    lines = [f"line {i}\n" for i in range(20)]
    code.write_text("".join(lines))
    changed = ["LINE 1\n", *lines[2:18], "LINE 18\n", lines[19]]
    api.enqueue(write("code.txt", "".join([lines[0], *changed])), say("done"), say("ok"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        meta = agent.init.agent_capabilities.field_meta["agent-ls"]
        assert "_agent-ls/session/export" in meta["methods"]
        assert "_agent-ls/checkpoint/revertHunks" in meta["methods"]
        await agent.say(sid, "shout two lines")
        await agent.say(sid, "thanks")
        (cid,) = [
            c["checkpointId"]
            for c in (await agent.conn.ext_method("agent-ls/checkpoint/list", {"sessionId": sid}))[
                "checkpoints"
            ]
        ]
        diff = await agent.conn.ext_method(
            "agent-ls/checkpoint/diff", {"sessionId": sid, "checkpointId": cid}
        )
        assert [h["index"] for h in diff["files"][0]["hunks"]] == [0, 1]
        hunk = await agent.conn.ext_method(
            "agent-ls/checkpoint/revertHunks",
            {"sessionId": sid, "checkpointId": cid, "uri": code.as_uri(), "hunks": [0]},
        )
        assert hunk["applied"] is True and hunk["files"][0]["result"] == "restored"
        assert "line 1\n" in code.read_text() and "LINE 18\n" in code.read_text()

        first, second = await message_ids(agent, sid, workspace)
        dry = await agent.conn.ext_method(
            "agent-ls/session/rewind", {"sessionId": sid, "entryId": first, "dryRun": True}
        )
        assert dry["applied"] is False and dry["files"][0]["result"] == "restored"
        rewound = await agent.conn.ext_method(
            "agent-ls/session/rewind",
            {"sessionId": sid, "entryId": second, "scope": "conversation"},
        )
        assert rewound["applied"] is True and rewound["files"] == []
        assert rewound["leafEntryId"] is not None and "LINE 18\n" in code.read_text()

        bundle = workspace / "s.tar"
        written = await agent.conn.ext_method(
            "agent-ls/session/export", {"sessionId": sid, "format": "bundle", "path": str(bundle)}
        )
        assert written == {"path": str(bundle), "bytes": bundle.stat().st_size}
        elsewhere = workspace.parent / "elsewhere"
        elsewhere.mkdir()
        there = await agent.new(elsewhere)
        request = {"sessionId": there, "path": str(bundle)}
        imported = await agent.conn.ext_method("agent-ls/session/import", request)
        assert [i["sessionId"] for i in imported["imported"]] == [sid]
        assert (imported["skipped"], imported["problems"]) == (0, [])
        listed = (await agent.conn.list_sessions(cwd=str(elsewhere))).sessions
        assert sid in [s.session_id for s in listed]
        again = await agent.conn.ext_method("agent-ls/session/import", request)
        assert (again["imported"], again["skipped"]) == ([], 1)


BAD_PARAMS = [
    ("checkpoint/list", {}),
    ("checkpoint/diff", {}),
    ("checkpoint/restore", {"checkpointId": "{sid}:x", "scope": "everything"}),
    ("checkpoint/revertHunks", {"checkpointId": "{sid}:x", "uri": "file:///a", "hunks": []}),
    ("session/rewind", {"checkpointId": "{sid}:x"}),
    ("session/rewind", {"entryId": "nope"}),
    ("session/export", {"format": "pdf"}),
    ("session/export", {"format": "bundle"}),
    ("session/export", {"format": "markdown", "path": "relative.md"}),
    ("session/import", {}),
    ("session/import", {"path": "relative.tar"}),
]


async def test_bad_params_of_each_extension_method_answer_invalid_params(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        for method, params in BAD_PARAMS:
            body = {
                k: v.replace("{sid}", sid) if isinstance(v, str) else v for k, v in params.items()
            }
            if method != "checkpoint/list":
                body["sessionId"] = sid
            with pytest.raises(RequestError) as bad:
                await agent.conn.ext_method(f"agent-ls/{method}", body)
            assert bad.value.code == -32602, (method, params, bad.value)
            if "checkpointId" in params and method == "session/rewind":
                assert "_agent-ls/checkpoint/restore" in str(bad.value)
            assert isinstance(bad.value.data, dict) and bad.value.data["kind"] == "invalid_params"
