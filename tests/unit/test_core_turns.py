"""Failed, cancelled, retried and edited turns in the core, with the scripted provider and a
recording editor port; edits under review and command output as the tool calls report them."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.conversation import build_messages
from agent_ls.agent.events import DiffContent, ToolCallUpdated, TurnEnded
from agent_ls.agent.permissions import prompt_text
from agent_ls.agent.tools.truncate import SHOWN_TAIL_BYTES, SHOWN_TAIL_LINES, shown_tail
from agent_ls.cli.transcript import describe
from agent_ls.core.branch_point import TurnRequestError
from agent_ls.core.service import AgentService
from agent_ls.core.transcript import TurnEndItem
from agent_ls.lsp import protocol
from tests.unit.test_core_service import RecordingEditor, make_service, say, tool_turn

OVERLOADED = {"error": {"status": 529}}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "notes.txt").write_text("old\n")
    return root.resolve()


def entries(service: AgentService, sid: str) -> list[dict[str, Any]]:
    folder = service.sessions.locate(sid)
    return [dict(e) for e in folder.store.load(sid).active_path()]


def user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [
        b["text"]
        for m in messages
        if m["role"] == "user"
        for b in m["content"]
        if b.get("type") == "text"
    ]


async def test_a_failed_turn_is_marked_live_and_reloaded_alike(
    tmp_path: Path, workspace: Path
) -> None:
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [OVERLOADED], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    outcome = await service.prompting.prompt(sid, "first try")
    assert outcome.result.stop_reason == "error"
    [live] = [e for _, _, e in editor.events if isinstance(e, TurnEnded)]
    assert live.stop_reason == "error" and live.error
    [item] = [i for i in service.sessions.switch(sid).items if isinstance(i, TurnEndItem)]
    assert protocol.transcript_item_to_wire(item, sid) == protocol.event_to_update(sid, live)
    assert entries(service, sid)[-1]["type"] == "turn_end"


async def test_the_next_prompt_after_an_error_leaves_the_failed_turn_as_a_branch(
    tmp_path: Path, workspace: Path
) -> None:
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [say("one"), OVERLOADED, say("two")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "hello")
    assert (await service.prompting.prompt(sid, "fails")).result.stop_reason == "error"
    await service.prompting.prompt(sid, "instead")
    sent = build_messages(entries(service, sid))
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant"]
    assert user_texts(sent) == ["hello", "instead"]


async def test_retry_resends_the_failed_prompt_once_and_nothing_else_is_retried(
    tmp_path: Path, workspace: Path
) -> None:
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [OVERLOADED, say("worked")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "do it")
    retried = await service.prompting.retry(sid)
    assert retried.result.stop_reason == "end_turn"
    path = entries(service, sid)
    assert user_texts(build_messages(path)) == ["do it"]
    assert path[-1]["content"][0]["text"] == "worked"
    with pytest.raises(TurnRequestError, match="nothing to retry"):
        await service.prompting.retry(sid)
    assert not service.sessions.turns.is_live(sid)  # the refused retry released the session


async def test_edit_and_resend_moves_the_conversation_before_the_edited_prompt(
    tmp_path: Path, workspace: Path
) -> None:
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [say("a"), say("b"), say("c")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "one")
    await service.prompting.prompt(sid, "two")
    [second] = [e for e in entries(service, sid) if e.get("role") == "user"][1:]
    await service.prompting.prompt(sid, "two, edited", replace_entry_id=second["id"])
    assert user_texts(build_messages(entries(service, sid))) == ["one", "two, edited"]
    folder = service.sessions.locate(sid)
    assert folder.store.load(sid).has(second["id"])  # the old turn stays, as a branch
    with pytest.raises(TurnRequestError, match="replaceEntryId"):
        await service.prompting.prompt(sid, "x", replace_entry_id=entries(service, sid)[-1]["id"])


async def test_a_cancel_before_any_reply_keeps_the_next_request_alternating(
    tmp_path: Path, workspace: Path
) -> None:
    slow = {"content": [{"type": "text", "text": "slow " * 100}], "delay_ms": 50}
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [slow, say("next")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    running = asyncio.ensure_future(service.prompting.prompt(sid, "stop me"))
    while not any(type(e).__name__ == "UserMessage" for _, _, e in editor.events):
        await asyncio.sleep(0.01)
    service.prompting.cancel(sid)
    assert (await running).result.stop_reason == "cancelled"
    kinds = [e.get("role", e["type"]) for e in entries(service, sid)]
    assert kinds == ["user", "turn_end"]  # no reply was stored: the prompt stands alone
    await service.prompting.prompt(sid, "next one")
    sent = build_messages(entries(service, sid))
    roles = [m["role"] for m in sent]
    assert all(a != b for a, b in itertools.pairwise(roles)), roles
    assert user_texts(sent) == ["stop me", "next one"]


def review_service(
    tmp_path: Path, workspace: Path, editor: RecordingEditor, turns: list[dict[str, Any]]
) -> AgentService:
    script = tmp_path / "turns.json"
    script.write_text(json.dumps(turns))
    config = AgentConfig(
        provider="scripted",
        script=str(script),
        permissions={**AgentConfig().permissions, "edit": "ask"},
    )
    return AgentService([workspace], editor, store_root=tmp_path / "home", config=config)


EDIT = {
    "type": "tool_use",
    "name": "edit_file",
    "input": {"path": "notes.txt", "old_string": "old", "new_string": "new\nmore"},
}


@pytest.mark.parametrize("answer", ["allow_once", "reject_once"])
async def test_an_edit_under_review_is_asked_with_its_diff_and_written_only_if_accepted(
    tmp_path: Path, workspace: Path, answer: Any
) -> None:
    editor = RecordingEditor(answers=[answer])
    service = review_service(tmp_path, workspace, editor, [tool_turn(EDIT), say("ok")])
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "edit")
    [asked] = editor.asked
    assert asked.content == [DiffContent(str(workspace / "notes.txt"), "old\n", "new\nmore\n")]
    assert prompt_text(asked).endswith("notes.txt: +2 -1")
    expected = "new\nmore\n" if answer == "allow_once" else "old\n"
    assert (workspace / "notes.txt").read_text() == expected
    [result] = [e for e in entries(service, sid) if e.get("role") == "tool_result"]
    if answer == "reject_once":
        assert result["content"][0]["is_error"] is True
        assert "rejected this edit" in result["content"][0]["content"]


async def test_a_command_reports_its_output_tail_and_exit_code(
    tmp_path: Path, workspace: Path
) -> None:
    command = {
        "type": "tool_use",
        "name": "run_command",
        "input": {"command": "seq 1 100; exit 3"},
    }
    editor = RecordingEditor(answers=["allow_once"])
    service = make_service(tmp_path, workspace, [tool_turn(command), say("ok")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "run")
    [done] = [e for _, _, e in editor.events if isinstance(e, ToolCallUpdated) and e.raw_output]
    assert done.raw_output is not None
    assert (done.raw_output.exit_code, done.raw_output.truncated) == (3, True)
    [shown] = done.content
    lines = shown.text.split("\n")  # type: ignore[union-attr]
    assert len(lines) == SHOWN_TAIL_LINES and lines[-2:] == ["100", "Exit code 3"]
    [result] = [e for e in entries(service, sid) if e.get("role") == "tool_result"]
    assert "\n1\n2\n" in result["content"][0]["content"]  # the model still gets all of it


def test_the_shown_tail_keeps_to_its_byte_budget() -> None:
    tail, truncated = shown_tail("é" * 10_000, "Exit code 0")
    assert truncated and len(tail.encode("utf-8")) <= SHOWN_TAIL_BYTES
    assert tail.endswith("\nExit code 0")
    assert shown_tail("", "Exit code 0") == ("Exit code 0", False)
    assert shown_tail("a\nb\n", "Exit code 1") == ("a\nb\nExit code 1", False)


async def test_retry_of_a_cancelled_turn_replaces_it_with_a_new_one(
    tmp_path: Path, workspace: Path
) -> None:
    slow = {"content": [{"type": "text", "text": "slow " * 100}], "delay_ms": 50}
    editor = RecordingEditor()
    service = make_service(tmp_path, workspace, [slow, say("finished")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    running = asyncio.ensure_future(service.prompting.prompt(sid, "long one"))
    while not any(type(e).__name__ == "UserMessage" for _, _, e in editor.events):
        await asyncio.sleep(0.01)
    service.prompting.cancel(sid)
    assert (await running).result.stop_reason == "cancelled"
    assert (await service.prompting.retry(sid)).result.stop_reason == "end_turn"
    path = entries(service, sid)
    assert [e.get("role", e["type"]) for e in path] == ["user", "assistant"]
    assert user_texts(build_messages(path)) == ["long one"]


def test_the_conversation_skips_turn_ends_and_never_sends_two_user_messages_in_a_row() -> None:
    def message(entry_id: str, role: str, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "message", "id": entry_id, "role": role, "content": content}

    call = {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a"}}
    path = [
        message("1", "user", [{"type": "text", "text": "first"}]),
        {"type": "turn_end", "id": "2", "stopReason": "cancelled"},
        message("3", "user", [{"type": "text", "text": "second"}]),
        message("4", "assistant", [call]),
        message("5", "tool_result", [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]),
        {"type": "turn_end", "id": "6", "stopReason": "cancelled"},
        message("7", "user", [{"type": "text", "text": "third"}]),
    ]
    sent = build_messages(path)
    assert [m["role"] for m in sent] == ["user", "assistant"] * 3 + ["user"]
    assert user_texts(sent) == ["first", "second", "third"]
    assert "turn_end" not in str(sent)
    assert sent[1]["content"] == [{"type": "text", "text": "(The user cancelled the turn here.)"}]


def test_sessions_show_names_how_a_failed_turn_ended() -> None:
    entry = {"type": "turn_end", "id": "e9", "stopReason": "error", "error": "Overloaded."}
    assert describe(entry) == "[e9] turn ended: error — Overloaded."
    assert describe({"type": "turn_end", "id": "e8", "stopReason": "cancelled"}) == (
        "[e8] turn ended: cancelled"
    )
