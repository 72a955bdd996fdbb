"""agent/checkpoint/* over LSP across turns and server restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic


def write(path: str, content: str) -> dict[str, Any]:
    return {
        "content": [
            {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
        ]
    }


def done(text: str = "done") -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}]}


async def test_multi_turn_revert_after_restart_and_conversation_scope(
    api: FakeAnthropic, tmp_path: Path
) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "a.txt").write_text("v0\n")
    home = tmp_path / "home"
    env = {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"}
    api.enqueue(
        write("a.txt", "v1\n"),
        done(),
        write("a.txt", "v2\n"),
        done(),
        write("b.bin", "\x00\x01binary"),
        done(),
    )
    async with connect([workspace], home, env=env) as agent:
        first = await agent.request("agent/session/prompt", {"prompt": "turn one"})
        await agent.request("agent/session/prompt", {"prompt": "turn two"})
        third = await agent.request("agent/session/prompt", {"prompt": "turn three"})
        session_id = first["sessionId"]
        assert third["sessionId"] == session_id
    assert (workspace / "a.txt").read_text() == "v2\n"
    assert (workspace / "b.bin").exists()

    async with connect([workspace], home, env=env) as agent:  # a new server process
        listed = await agent.request("agent/checkpoint/list", {"sessionId": session_id})
        prompts = [c["prompt"] for c in listed["checkpoints"]]
        assert prompts == ["turn one", "turn two", "turn three"]
        result = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": first["checkpointId"], "scope": "both"}
        )
        assert {f["result"] for f in result["files"]} == {"restored"}
        assert (workspace / "a.txt").read_text() == "v0\n"
        assert not (workspace / "b.bin").exists()
        page = await agent.request("agent/session/switch", {"sessionId": session_id})
        # the conversation went back to before turn one; the later turns stay in the file
        assert [i for i in page["items"] if i["kind"] == "user"] == []
        api.enqueue(done("fresh start"))
        again = await agent.request("agent/session/prompt", {"prompt": "new direction"})
        assert again["stopReason"] == "end_turn"
        sent = api.requests[-1]["body"]["messages"]
        assert [m["role"] for m in sent] == ["user"]
        fork = await agent.request(
            "agent/session/fork", {"sessionId": session_id, "entryId": third["entryId"]}
        )
        forked = await agent.request("agent/session/switch", {"sessionId": fork["sessionId"]})
        users = [i["content"][0]["text"] for i in forked["items"] if i["kind"] == "user"]
        assert users == ["turn one", "turn two", "turn three"]


async def test_unknown_checkpoint_answers_not_found(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    async with connect([workspace], tmp_path / "home") as agent:
        session = await agent.request("agent/session/new", {})
        err = await agent.error(
            "agent/checkpoint/diff", {"checkpointId": f"{session['sessionId']}:nope"}
        )
        assert err.code == -32013 and err.data["kind"] == "checkpoint_not_found"  # type: ignore[attr-defined]
        err = await agent.error("agent/checkpoint/restore", {"checkpointId": "missing:entry"})
        assert err.code == -32013
        assert (
            await agent.request("agent/checkpoint/list", {"sessionId": session["sessionId"]})
        ) == {"checkpoints": []}
