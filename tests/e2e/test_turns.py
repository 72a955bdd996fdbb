"""Failed turns, retry, edit and resend, edits under review and command output, over real stdio
LSP with the real SDK against the local fake API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.e2e.harness import Agent, api_env, connect
from tests.fakes.anthropic_server import FakeAnthropic

INVALID_PARAMS = -32602
OVERLOADED = {"error": {"status": 529, "message": "Overloaded"}}
NO_RETRIES = {"maxRetries": 0}


def updates(agent: Agent, kind: str) -> list[dict[str, Any]]:
    return [u["update"] for u in agent.updates if u["update"]["kind"] == kind]


def user_texts(request: dict[str, Any]) -> list[str]:
    """The text blocks of the user messages a request sent (tool results left out)."""
    return [
        block["text"]
        for message in request["body"]["messages"]
        if message["role"] == "user"
        for block in message["content"]
        if block.get("type") == "text"
    ]


def tool_use(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": name, "input": tool_input}]}


def text(reply: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": reply}]}


async def test_retry_after_a_529_keeps_the_marker_and_sends_the_prompt_once(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(text("first answer"), OVERLOADED)
    home = tmp_path / "home"
    async with connect([workspace], home, env=api_env(api), options=NO_RETRIES) as agent:
        first = await agent.request("agent/session/prompt", {"prompt": "hello"})
        sid = first["sessionId"]
        failed = await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "do it"})
        assert failed["stopReason"] == "error" and "529" in failed["error"]
        [live] = updates(agent, "turn_end")
        assert live["stopReason"] == "error" and live["error"] == failed["error"]
    async with connect([workspace], home, env=api_env(api), options=NO_RETRIES) as agent:
        page = await agent.request("agent/session/switch", {"sessionId": sid})
        assert page["items"][-1] == live  # reloaded as it streamed
        retried = await agent.request(
            "agent/session/retry", {"sessionId": sid, "workDoneToken": "retry-1"}
        )
        assert retried["stopReason"] == "end_turn" and retried["sessionId"] == sid
        assert updates(agent, "user_message")[0]["content"] == [{"type": "text", "text": "do it"}]
        assert isinstance(agent.client.progress_reports["retry-1"][-1], lsp.WorkDoneProgressEnd)
        nothing = await agent.error("agent/session/retry", {"sessionId": sid})
        assert nothing.code == INVALID_PARAMS and "nothing to retry" in nothing.message
        page = await agent.request("agent/session/switch", {"sessionId": sid})
        assert [i["kind"] for i in page["items"]] == ["user", "assistant", "user", "assistant"]
    assert user_texts(api.requests[-1]) == ["hello", "do it"]
    assert api.requests[-1]["body"]["messages"][-1]["role"] == "user"


async def test_a_prompt_after_a_failed_turn_does_not_carry_the_failed_prompt(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(OVERLOADED)
    async with connect(
        [workspace], tmp_path / "home", env=api_env(api), options=NO_RETRIES
    ) as agent:
        failed = await agent.request("agent/session/prompt", {"prompt": "lost"})
        assert failed["stopReason"] == "error"
        again = await agent.request(
            "agent/session/prompt", {"sessionId": failed["sessionId"], "prompt": "instead"}
        )
        assert again["stopReason"] == "end_turn"
    assert user_texts(api.requests[-1]) == ["instead"]


async def test_edit_and_resend_replaces_the_prompt_and_keeps_the_old_turn(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    async with connect([workspace], tmp_path / "home", env=api_env(api)) as agent:
        first = await agent.request("agent/session/prompt", {"prompt": "one"})
        sid = first["sessionId"]
        await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "two"})
        second = updates(agent, "user_message")[-1]["entryId"]
        edited = await agent.request(
            "agent/session/prompt",
            {"sessionId": sid, "prompt": "two, edited", "replaceEntryId": second},
        )
        assert edited["stopReason"] == "end_turn"
        page = await agent.request("agent/session/switch", {"sessionId": sid})
        prompts = [i["content"][0]["text"] for i in page["items"] if i["kind"] == "user"]
        assert prompts == ["one", "two, edited"]
        wrong = await agent.error(
            "agent/session/prompt",
            {"sessionId": sid, "prompt": "x", "replaceEntryId": edited["entryId"]},
        )
        assert wrong.code == INVALID_PARAMS and "replaceEntryId" in wrong.message
        forked = await agent.request("agent/session/fork", {"sessionId": sid, "entryId": second})
        assert forked["messageCount"] >= 3  # the old turn is still in the file, as a branch
    assert user_texts(api.requests[-1]) == ["one", "two, edited"]


@pytest.mark.parametrize("answer", ["allow_once", "reject_once"])
async def test_an_edit_under_review_shows_its_diff_and_lands_only_when_accepted(
    api: FakeAnthropic, workspace: Path, tmp_path: Path, answer: str
) -> None:
    (workspace / "app.py").write_text("x = 1\ny = 2\n")
    api.enqueue(
        tool_use("edit_file", path="app.py", old_string="x = 1\n", new_string="x = 10\nz = 3\n"),
        text("done"),
    )
    options = {"permissionUi": True, "permissionPolicy": {"edit": "ask"}}
    async with connect([workspace], tmp_path / "home", env=api_env(api), options=options) as agent:
        asked: list[Any] = []

        @agent.client.feature("agent/session/requestPermission")
        def ask(params: Any) -> dict[str, Any]:
            asked.append(params)
            return {"outcome": {"outcome": "selected", "optionId": answer}}

        result = await agent.request("agent/session/prompt", {"prompt": "change x"})
        assert result["stopReason"] == "end_turn"
    [request] = asked
    assert request.toolCall.content[0]._asdict() == {
        "type": "diff",
        "path": str((workspace / "app.py").resolve()),
        "oldText": "x = 1\ny = 2\n",
        "newText": "x = 10\nz = 3\ny = 2\n",
    }
    tool_result = api.requests[-1]["body"]["messages"][-1]["content"][0]
    if answer == "allow_once":
        assert (workspace / "app.py").read_text() == "x = 10\nz = 3\ny = 2\n"
        assert "is_error" not in tool_result
    else:
        assert (workspace / "app.py").read_text() == "x = 1\ny = 2\n"
        assert tool_result["is_error"] is True
        assert "rejected this edit" in tool_result["content"]


async def test_the_message_fallback_of_a_review_names_the_file_and_its_line_counts(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(tool_use("write_file", path="new.py", content="a\nb\n"), text("done"))
    options = {"permissionPolicy": {"edit": "ask"}}
    async with connect([workspace], tmp_path / "home", env=api_env(api), options=options) as agent:
        asked: list[lsp.ShowMessageRequestParams] = []

        @agent.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
        def ask(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem:
            asked.append(params)
            return lsp.MessageActionItem(title="Reject")

        await agent.request("agent/session/prompt", {"prompt": "make it"})
    [message] = asked
    assert message.message.endswith("new.py: +2 -0 (new file)")
    assert not (workspace / "new.py").exists()


async def test_command_output_tail_and_exit_code_travel_in_the_tool_call_update(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(tool_use("run_command", command="seq 1 60; echo oops >&2; exit 4"), text("seen"))
    options = {"permissionPolicy": {"execute": "allow"}}
    async with connect([workspace], tmp_path / "home", env=api_env(api), options=options) as agent:
        result = await agent.request("agent/session/prompt", {"prompt": "run it"})
        assert result["stopReason"] == "end_turn"
        [done] = [u for u in updates(agent, "tool_call_update") if u["status"] != "in_progress"]
        page = await agent.request("agent/session/switch", {"sessionId": result["sessionId"]})
    assert done["rawOutput"] == {"exitCode": 4, "truncated": True}
    [shown] = done["content"]
    lines = shown["content"]["text"].split("\n")
    assert len(lines) == 40 and lines[-3:] == ["60", "oops", "Exit code 4"]
    [stored] = [i for i in page["items"] if i["kind"] == "tool"]
    assert stored["content"][0]["content"].startswith("Exit code 4\n1\n2\n")  # the whole output


async def test_compact_summarizes_the_older_turns_now_and_keeps_the_latest(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    api.enqueue(
        {"content": [{"type": "text", "text": "A long answer. " * 300}]},
        {"content": [{"type": "text", "text": "short"}]},
        {"content": [{"type": "text", "text": "We renamed the module and fixed the login."}]},
    )
    options = {"contextWindow": 2000}  # the older turn does not fit in a quarter of it
    async with connect([workspace], tmp_path / "home", env=api_env(api), options=options) as agent:
        session = await agent.request("agent/session/new", {})
        sid = session["sessionId"]
        short = await agent.request("agent/session/compact", {"sessionId": sid})
        assert short == {"compacted": False}  # nothing to shorten yet
        await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "first"})
        await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "second"})
        done = await agent.request("agent/session/compact", {"sessionId": sid})
        assert done["compacted"] is True
        assert done["summary"] == "We renamed the module and fixed the login."
        assert done["tokensBefore"] > 500
        page = await agent.request("agent/session/switch", {"sessionId": sid})
        assert [i["kind"] for i in page["items"]][-3:] == ["user", "assistant", "compaction"]
    summary_request = api.requests[-1]["body"]
    assert not summary_request.get("stream")
    assert "first" in str(summary_request["messages"]) and "second" not in str(
        summary_request["messages"]
    )
