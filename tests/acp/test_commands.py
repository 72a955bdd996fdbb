"""Slash commands, the `_agent-ls/` extension methods, and the session's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acp import RequestError

from tests.acp.harness import Agent, connect
from tests.fakes.anthropic_server import FakeAnthropic


def write(path: str, content: str) -> dict[str, Any]:
    block = {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
    return {"content": [block]}


def say(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}]}


async def reply_to(agent: Agent, sid: str, command: str) -> str:
    """The agent message a slash command answers with."""
    before = len(agent.client.of("agent_message_chunk", sid))
    result = await agent.say(sid, command)
    assert result.stop_reason == "end_turn"
    return "".join(c.content.text for c in agent.client.of("agent_message_chunk", sid)[before:])


async def test_every_slash_command_answers_in_the_transcript(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    notes = workspace / "notes.txt"
    notes.write_text("v0\n")
    api.enqueue(write("notes.txt", "v1\n"), say("one"), write("notes.txt", "v2\n"), say("two"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        names = {
            c.name
            for c in (
                await agent.client.wait_for("available_commands_update", sid)
            ).available_commands
        }
        assert names == {
            "checkpoints",
            "diff",
            "rewind",
            "revert",
            "undo",
            "export",
            "fork",
            "rename",
            "compact",
            "sessions",
            "search",
            "retry",
        }
        assert "No checkpoints yet" in await reply_to(agent, sid, "/checkpoints")
        await agent.say(sid, "first")
        await agent.say(sid, "second")
        listing = await reply_to(agent, sid, "/checkpoints")
        assert "1. " in listing and "“second”" in listing and "2. " in listing
        diff = await reply_to(agent, sid, "/diff 2")
        assert "-v0" in diff and "+v1" in diff
        assert "not a checkpoint number" in await reply_to(agent, sid, "/diff 9")
        reverted = await reply_to(agent, sid, "/revert 2 both")
        assert "Reverted checkpoint 2 and later (both)" in reverted
        assert notes.read_text() == "v0\n"
        assert "Undid the last rewind or revert" in await reply_to(agent, sid, "/undo")
        assert notes.read_text() == "v2\n"
        renamed = await reply_to(agent, sid, "/rename Greeting work")
        assert "Greeting work" in renamed
        assert agent.client.of("session_info_update", sid)[-1].title == "Greeting work"
        forked = await reply_to(agent, sid, "/fork")
        fork_id = forked.split("into ")[1].split(".")[0]
        sessions = await reply_to(agent, sid, "/sessions")
        assert fork_id in sessions and "Greeting work" in sessions and "(this one)" in sessions
        compacted = await reply_to(agent, sid, "/compact")
        assert compacted.startswith(("Compacted", "Nothing to compact"))
        assert "Usage: /rewind" in await reply_to(agent, sid, "/rewind 1 2")
        assert len(api.requests) == 4  # commands never reach the model (compact aside)
        await agent.say(sid, "/unknown is not a command")
        assert agent.client.text(sid).endswith("Echo: /unknown is not a command")


async def test_extension_methods_list_diff_restore_and_rewind(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    notes = workspace / "notes.txt"
    notes.write_text("v0\n")
    api.enqueue(write("notes.txt", "v1\n"), say("done"))
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        await agent.say(sid, "change it")
        listed = await agent.conn.ext_method("agent-ls/checkpoint/list", {"sessionId": sid})
        (checkpoint,) = listed["checkpoints"]
        cid = checkpoint["checkpointId"]
        assert checkpoint["files"][0]["path"] == str(notes)
        diff = await agent.conn.ext_method(
            "agent-ls/checkpoint/diff", {"sessionId": sid, "checkpointId": cid}
        )
        assert diff["files"][0]["before"] == "v0\n" and diff["files"][0]["after"] == "v1\n"
        dry = await agent.conn.ext_method(
            "agent-ls/checkpoint/restore", {"sessionId": sid, "checkpointId": cid, "dryRun": True}
        )
        assert dry["applied"] is False and notes.read_text() == "v1\n"
        restored = await agent.conn.ext_method(
            "agent-ls/checkpoint/restore", {"sessionId": sid, "checkpointId": cid}
        )
        assert restored["applied"] is True and notes.read_text() == "v0\n"
        with pytest.raises(RequestError) as other:
            await agent.conn.ext_method(
                "agent-ls/checkpoint/diff", {"sessionId": sid, "checkpointId": "X:Y"}
            )
        assert other.value.code == -32602


async def test_model_and_permission_mode_apply_to_the_next_turn(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(say("first"), write("blocked.txt", "no\n"), say("refused"))
    async with connect(home, env={**env, "AGENT_LS_MODELS": "claude-test-b"}) as agent:
        sid = (await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        changed = await agent.conn.set_config_option(
            config_id="model", session_id=sid, value="claude-test-b"
        )
        model = next(o for o in changed.config_options if o.id == "model")
        assert model.current_value == "claude-test-b"
        assert "claude-test-b" in [o.value for o in model.options]
        await agent.say(sid, "hi")
        assert api.requests[-1]["body"]["model"] == "claude-test-b"
        await agent.conn.set_session_mode(session_id=sid, mode_id="read_only")
        assert agent.client.of("current_mode_update", sid)[-1].current_mode_id == "read_only"
        update = agent.client.of("config_option_update", sid)[-1]
        mode = next(o for o in update.config_options if o.id == "mode")
        assert mode.current_value == "read_only"
        await agent.say(sid, "write a file")
        assert not (workspace / "blocked.txt").exists()
        failed = [u for u in agent.client.of("tool_call_update", sid) if u.status == "failed"]
        assert "not allowed" in failed[-1].content[0].content.text
        with pytest.raises(RequestError) as bad:
            await agent.conn.set_config_option(config_id="mode", session_id=sid, value="turbo")
        assert bad.value.code == -32602


async def test_retry_resends_the_failed_prompt_as_a_turn(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(say("fine"), {"error": {"status": 400, "message": "the fake API refuses"}})
    async with connect(home, env=env, fs=False) as agent:
        sid = await agent.new(workspace)
        assert "nothing to retry" in await reply_to(agent, sid, "/retry")
        await agent.say(sid, "hello")
        with pytest.raises(RequestError):
            await agent.say(sid, "doomed")
        assert "Usage: /retry" in await reply_to(agent, sid, "/retry now")
        retried = await agent.say(sid, "/retry")
        assert retried.stop_reason == "end_turn"
        assert agent.client.text(sid).endswith("Echo: doomed")
        prompts = [m for m in api.requests[-1]["body"]["messages"] if m["role"] == "user"]
        assert [m["content"][0]["text"] for m in prompts] == ["hello", "doomed"]  # once
        assert "nothing to retry" in await reply_to(agent, sid, "/retry")


async def test_search_finds_text_in_this_folders_sessions(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    async with connect(home, env=env, fs=False) as agent:
        first = await agent.new(workspace)
        await agent.say(first, "plan the zebra migration")
        other = await agent.new(workspace)
        await agent.say(other, "something else")
        found = await reply_to(agent, other, "/search zebra")
        assert found.startswith("Matches for “zebra”")
        hits = [line for line in found.splitlines() if line[:1].isdigit()]
        assert hits and all(first in line and "**zebra**" in line for line in hits)
        assert "(this one)" not in found
        everywhere = await reply_to(agent, other, "/search --all zebra")
        assert f"in {workspace}" in everywhere
        assert "Nothing matches “okapi”" in await reply_to(agent, other, "/search okapi")
        assert "Usage: /search" in await reply_to(agent, other, "/search")
