"""agent/session/prompt over real stdio LSP, with the real SDK against the local fake API."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.e2e.harness import Agent, api_env, connect
from tests.fakes.anthropic_server import FakeAnthropic

BUSY = -32011  # session_busy


def kinds(agent: Agent) -> list[str]:
    return [u["update"]["kind"] for u in agent.updates]


def streamed_text(agent: Agent) -> str:
    return "".join(
        u["update"]["content"]["text"]
        for u in agent.updates
        if u["update"]["kind"] == "agent_message_chunk"
    )


def write_file(path: str, content: str) -> dict[str, Any]:
    return {
        "content": [
            {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
        ]
    }


def text(reply: str, **extra: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": reply}], **extra}


async def test_text_turn_streams_and_is_stored(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(text("Hello from the fake model, streamed in small pieces.", chunk_size=5))
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        session = await agent.request("agent/session/new", {})
        result = await agent.request(
            "agent/session/prompt",
            {"sessionId": session["sessionId"], "prompt": "hi", "workDoneToken": "tok-1"},
        )
        assert result["stopReason"] == "end_turn"
        assert result["usage"]["outputTokens"] >= 0
        assert kinds(agent)[0] == "user_message"
        assert kinds(agent).count("agent_message_chunk") > 1
        assert streamed_text(agent) == "Hello from the fake model, streamed in small pieces."
        turn_ids = {u["turnId"] for u in agent.updates}
        assert turn_ids == {agent.updates[0]["update"]["entryId"]}
        progress = agent.client.progress_reports["tok-1"]
        assert isinstance(progress[0], lsp.WorkDoneProgressBegin)
        assert isinstance(progress[-1], lsp.WorkDoneProgressEnd)
        page = await agent.request("agent/session/switch", {"sessionId": session["sessionId"]})
        assert [i["kind"] for i in page["items"]] == ["user", "assistant"]
        assert page["session"]["firstMessage"] == "hi"
    # the key went to the API as a header and nowhere else
    assert api.requests[0]["body"]["messages"][0]["content"][0]["text"] == "hi"
    store_text = "".join(p.read_text() for p in (tmp_path / "home").rglob("*.jsonl"))
    assert "sk-test-secret" not in store_text


async def test_an_image_is_stored_sent_and_reloaded(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        session = await agent.request("agent/session/new", {})
        prompt = [{"type": "text", "text": "what is in this screenshot?"}, image]
        result = await agent.request(
            "agent/session/prompt", {"sessionId": session["sessionId"], "prompt": prompt}
        )
        assert result["stopReason"] == "end_turn"
        assert agent.updates[0]["update"]["content"] == prompt
        page = await agent.request("agent/session/switch", {"sessionId": session["sessionId"]})
        assert page["items"][0]["content"] == prompt
        assert page["session"]["firstMessage"] == "what is in this screenshot?"
    sent = api.requests[0]["body"]["messages"][0]["content"]
    assert [b["source"] for b in sent if b["type"] == "image"] == [image["source"]]


async def test_second_turn_carries_history(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        first = await agent.request("agent/session/prompt", {"prompt": "one"})
        assert first["stopReason"] == "end_turn"
        await agent.request("agent/session/prompt", {"prompt": "two"})
    messages = api.requests[-1]["body"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "Echo: one" in str(messages[1]["content"])


async def test_edit_checkpoint_diff_restore_and_undo(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "keep.txt").write_text("original\n")
    api.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "name": "write_file",
                    "input": {"path": "new.txt", "content": "made by the agent\n"},
                },
                {
                    "type": "tool_use",
                    "name": "edit_file",
                    "input": {
                        "path": "keep.txt",
                        "old_string": "original",
                        "new_string": "changed",
                    },
                },
            ]
        },
        text("Done."),
    )
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        result = await agent.request("agent/session/prompt", {"prompt": "make changes"})
        assert result["stopReason"] == "end_turn"
        assert (workspace / "new.txt").read_text() == "made by the agent\n"
        assert (workspace / "keep.txt").read_text() == "changed\n"
        assert "tool_call" in kinds(agent) and "checkpoint" in kinds(agent)
        diffs = [
            u["update"]
            for u in agent.updates
            if u["update"]["kind"] == "tool_call_update" and u["update"]["status"] == "completed"
        ]
        assert any(c["type"] == "diff" for d in diffs for c in d["content"])
        checkpoint_id = result["checkpointId"]
        session_id = result["sessionId"]
        listed = await agent.request("agent/checkpoint/list", {"sessionId": session_id})
        [checkpoint] = listed["checkpoints"]
        assert checkpoint["checkpointId"] == checkpoint_id
        assert sorted(f["operation"] for f in checkpoint["files"]) == ["created", "modified"]
        diff = await agent.request("agent/checkpoint/diff", {"checkpointId": checkpoint_id})
        by_path = {Path(f["path"]).name: f for f in diff["files"]}
        assert by_path["keep.txt"]["before"] == "original\n"
        assert by_path["keep.txt"]["after"] == "changed\n"
        assert "+changed" in by_path["keep.txt"]["diff"]
        dry = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": checkpoint_id, "dryRun": True}
        )
        assert dry["applied"] is False and (workspace / "new.txt").exists()
        restored = await agent.request("agent/checkpoint/restore", {"checkpointId": checkpoint_id})
        assert {f["result"] for f in restored["files"]} == {"restored"}
        assert not (workspace / "new.txt").exists()
        assert (workspace / "keep.txt").read_text() == "original\n"
        redo = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": restored["undoCheckpointId"]}
        )
        assert {f["result"] for f in redo["files"]} == {"restored"}
        assert (workspace / "new.txt").read_text() == "made by the agent\n"
        assert (workspace / "keep.txt").read_text() == "changed\n"


async def test_conflict_left_alone_then_forced(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(write_file("a.txt", "agent\n"), text("ok"))
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        result = await agent.request("agent/session/prompt", {"prompt": "write"})
        (workspace / "a.txt").write_text("the user's own edit\n")
        kept = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": result["checkpointId"]}
        )
        assert [f["result"] for f in kept["files"]] == ["conflict"]
        assert (workspace / "a.txt").read_text() == "the user's own edit\n"
        forced = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": result["checkpointId"], "force": True}
        )
        assert [f["result"] for f in forced["files"]] == ["restored"]
        assert not (workspace / "a.txt").exists()
        undo = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": forced["undoCheckpointId"]}
        )
        assert [f["result"] for f in undo["files"]] == ["restored"]
        assert (workspace / "a.txt").read_text() == "the user's own edit\n"


async def test_open_buffer_read_and_edited_through_apply_edit(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    target = workspace / "code.py"
    target.write_text("x = 1\n")
    api.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "name": "edit_file",
                    "input": {"path": "code.py", "old_string": "x = 2", "new_string": "x = 3"},
                }
            ]
        },
        text("edited"),
    )
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        edits: list[Any] = []

        @agent.client.feature(lsp.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
            edits.append(params)
            change = params.edit.document_changes[0]
            new_text = change.edits[0].new_text
            agent.client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(
                        uri=target.as_uri(), version=2
                    ),
                    content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=new_text)],
                )
            )
            return lsp.ApplyWorkspaceEditResult(applied=True)

        agent.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=target.as_uri(), language_id="python", version=1, text="x = 2\n"
                )
            )
        )
        result = await agent.request("agent/session/prompt", {"prompt": "bump x"})
        assert result["stopReason"] == "end_turn"
        assert len(edits) == 1 and edits[0].label
        assert edits[0].edit.document_changes[0].edits[0].new_text == "x = 3\n"
        assert target.read_text() == "x = 1\n"  # the buffer changed, the disk did not
        diff = await agent.request(
            "agent/checkpoint/diff", {"checkpointId": result["checkpointId"]}
        )
        assert diff["files"][0]["before"] == "x = 2\n"  # the unsaved text was checkpointed
        restored = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": result["checkpointId"]}
        )
        assert [f["result"] for f in restored["files"]] == ["restored"]
        assert edits[-1].edit.document_changes[0].edits[0].new_text == "x = 2\n"


async def test_cancel_keeps_what_streamed_and_session_continues(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(text("slow " * 200, chunk_size=5, delay_ms=20))
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        other = await agent.request("agent/session/new", {})
        session = await agent.request("agent/session/new", {})
        sid = session["sessionId"]
        running = asyncio.ensure_future(
            agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "go"}, timeout=30)
        )
        while "agent_message_chunk" not in kinds(agent):
            await asyncio.sleep(0.02)
        busy = await agent.error("agent/session/prompt", {"sessionId": sid, "prompt": "again"})
        assert busy.code == BUSY
        busy = await agent.error("agent/session/switch", {"sessionId": other["sessionId"]})
        assert busy.code == BUSY
        busy = await agent.error("agent/session/new", {})
        assert busy.code == BUSY
        agent.client.protocol.notify("agent/session/cancel", {"sessionId": sid})
        result = await running
        assert result["stopReason"] == "cancelled"
        page = await agent.request("agent/session/switch", {"sessionId": sid})
        stored, ended = page["items"][-2:]
        assert stored["kind"] == "assistant" and stored["content"][0]["text"].startswith("slow")
        assert ended["kind"] == "turn_end" and ended["stopReason"] == "cancelled"
        again = await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "next"})
        assert again["stopReason"] == "end_turn"


async def test_cancel_request_ends_turn_as_cancelled(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(text("slow " * 200, chunk_size=5, delay_ms=20))
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        future = agent.client.protocol.send_request("agent/session/prompt", {"prompt": "go"})
        while "agent_message_chunk" not in kinds(agent):
            await asyncio.sleep(0.02)
        msg_id = next(reversed(agent.client.protocol._request_futures))
        agent.client.cancel_request(lsp.CancelParams(id=msg_id))
        result = await asyncio.wait_for(asyncio.wrap_future(future), 10)
        assert result.stopReason == "cancelled"


@pytest.mark.parametrize("permission_ui", [True, False])
async def test_permission_denied_command_does_not_run(
    api: FakeAnthropic, workspace: Path, tmp_path: Path, permission_ui: bool
) -> None:
    api.enqueue(
        {
            "content": [
                {"type": "tool_use", "name": "run_command", "input": {"command": "touch ran.txt"}}
            ]
        },
        text("understood"),
    )
    async with connect(
        [workspace], tmp_path / "home", env=api_env(api), options={"permissionUi": permission_ui}
    ) as agent:
        asked: list[Any] = []
        if permission_ui:

            @agent.client.feature("agent/session/requestPermission")
            def ask(params: Any) -> dict[str, Any]:
                asked.append(params)
                return {"outcome": {"outcome": "selected", "optionId": "reject_once"}}
        else:

            @agent.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
            def ask_message(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem:
                asked.append(params)
                return lsp.MessageActionItem(title="Reject")

        result = await agent.request("agent/session/prompt", {"prompt": "run it"})
        assert result["stopReason"] == "end_turn"
        assert len(asked) == 1
        assert not (workspace / "ran.txt").exists()
        failed = [
            u["update"]
            for u in agent.updates
            if u["update"]["kind"] == "tool_call_update" and u["update"]["status"] == "failed"
        ]
        assert failed
    tool_result = api.requests[-1]["body"]["messages"][-1]["content"][0]
    assert tool_result["is_error"] is True


async def test_permission_allowed_command_runs(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "name": "run_command",
                    "input": {"command": "echo hi > ran.txt"},
                }
            ]
        },
        text("ran"),
    )
    async with connect(
        [workspace], tmp_path / "home", env=api_env(api), options={"permissionUi": True}
    ) as agent:

        @agent.client.feature("agent/session/requestPermission")
        def ask(params: Any) -> dict[str, Any]:
            return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

        result = await agent.request("agent/session/prompt", {"prompt": "run it"})
        assert (workspace / "ran.txt").read_text() == "hi\n"
        listed = await agent.request("agent/checkpoint/list", {"sessionId": result["sessionId"]})
        assert [f["operation"] for f in listed["checkpoints"][0]["files"]] == ["created"]


async def test_missing_key_ends_turn_with_actionable_error(workspace: Path, tmp_path: Path) -> None:
    async with connect([workspace], tmp_path / "home") as agent:
        result = await agent.request("agent/session/prompt", {"prompt": "hello"})
        assert result["stopReason"] == "error"
        assert "ANTHROPIC_API_KEY" in result["error"]


async def test_provider_error_keeps_streamed_text(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue({**text("partial answer that gets cut", chunk_size=4), "cut_after": 3})
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        result = await agent.request("agent/session/prompt", {"prompt": "go"})
        assert result["stopReason"] == "error"
        page = await agent.request("agent/session/switch", {"sessionId": result["sessionId"]})
        stored, ended = page["items"][-2:]
        assert stored["kind"] == "assistant"
        assert streamed_text(agent).startswith(stored["content"][0]["text"][:4])
        assert ended == {**ended, "kind": "turn_end", "stopReason": "error"}
        assert ended["error"] == result["error"]


async def test_own_turn_is_not_announced_as_a_foreign_change(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(text("steady " * 120, chunk_size=7, delay_ms=20))  # about 2.4 s of streaming
    home = tmp_path / "home"
    fast = {"watchInterval": 0.05}  # the store is polled every 50 ms instead of every second
    async with (
        connect([workspace], home, env=api_env(api), options=fast) as mine,
        connect([workspace], home, options=fast) as other,
    ):
        session = await mine.request("agent/session/new", {})
        await until(lambda: other.list_changed >= 1)  # the other watcher has seen the session
        await asyncio.sleep(0.2)  # four polls of mine
        mine.list_changed = other.list_changed = 0
        result = await mine.request(
            "agent/session/prompt", {"sessionId": session["sessionId"], "prompt": "go"}
        )
        assert result["stopReason"] == "end_turn"
        await until(lambda: other.list_changed >= 1)  # the other window hears about the turn
        await asyncio.sleep(0.2)  # four more polls of mine
        assert mine.list_changed == 0  # its own appends are not another window's


async def until(predicate: Any, timeout: float = 10.0) -> None:
    """Wait for `predicate()` to hold, polling every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
