"""Permission prompts show the whole command and reject by default; "always allow" covers only
the command the user saw, and remembered answers are listed and revocable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_ls.lsp.params import plain
from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import stall_probe
from tests.reliability.support import FAKE_KEY, INVALID_PARAMS, record

pytestmark = pytest.mark.reliability

HIDDEN = "echo looks harmless " + "&& true " * 20 + "\n; touch PWNED"


def run(command: str) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": command}}]}


def text(reply: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": reply}]}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


async def test_prompt_shows_the_whole_command_and_rejects_by_default(
    workspace: Path, tmp_path: Path
) -> None:
    asked: list[Any] = []
    with FakeAnthropic() as api:
        api.enqueue(run(HIDDEN), text("dismissed"), run(HIDDEN), text("first action"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([workspace], tmp_path / "home", env=env) as agent:

            @agent.client.feature("window/showMessageRequest")
            def show(params: Any) -> Any:
                asked.append(params)
                return None if len(asked) == 1 else params.actions[0]  # dismiss, then default

            for prompt in ("one", "two"):
                result = await agent.request("agent/session/prompt", {"prompt": prompt}, 60)
                assert result["stopReason"] == "end_turn"
    assert len(asked) == 2
    for params in asked:
        assert HIDDEN in params.message  # whole, line break and all
        assert params.actions[0].title == "Reject"
    assert not (workspace / "PWNED").exists()


async def test_always_allow_is_scoped_listed_and_revocable(workspace: Path, tmp_path: Path) -> None:
    asked: list[str] = []
    answers = {"echo allowed": "allow_always", "touch PWNED": "reject_once"}
    with FakeAnthropic() as api:
        api.enqueue(
            run("echo allowed"),
            text("ran it"),
            run("echo allowed"),
            run("touch PWNED"),
            text("second turn"),
            run("echo allowed"),
            text("asked again"),
        )
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect(
            [workspace], tmp_path / "home", env=env, options={"permissionUi": True}
        ) as agent:

            @agent.client.feature("agent/session/requestPermission")
            def answer(params: Any) -> dict[str, Any]:
                command = plain(params)["toolCall"]["rawInput"]["command"]
                asked.append(command)
                return {"outcome": {"outcome": "selected", "optionId": answers[command]}}

            sid = (await agent.request("agent/session/new", {}))["sessionId"]
            assert (await agent.request("agent/permissions/list", {"sessionId": sid})) == {
                "rules": []
            }
            prompt = {"sessionId": sid, "prompt": "go"}
            async with stall_probe(agent) as stall:
                await agent.request("agent/session/prompt", prompt, 60)
                await agent.request("agent/session/prompt", prompt, 60)
            assert asked == ["echo allowed", "touch PWNED"]
            assert not (workspace / "PWNED").exists()

            listed = await agent.request("agent/permissions/list", {"sessionId": sid})
            [rule] = listed["rules"]
            assert rule["command"] == "echo allowed" and rule["decision"] == "allow"
            assert rule["toolKind"] == "execute" and "echo allowed" in rule["description"]
            revoke = {"sessionId": sid, "ruleId": rule["ruleId"]}
            assert await agent.request("agent/permissions/revoke", revoke) == {"revoked": True}
            assert await agent.request("agent/permissions/revoke", revoke) == {"revoked": False}
            listed = await agent.request("agent/permissions/list", {"sessionId": sid})
            assert listed["rules"] == []
            await agent.request("agent/session/prompt", prompt, 60)
            assert asked == ["echo allowed", "touch PWNED", "echo allowed"]

            bad = [
                ("agent/permissions/list", {}),
                ("agent/permissions/list", {"sessionId": "../x"}),
                ("agent/permissions/revoke", {"sessionId": sid}),
                ("agent/permissions/revoke", {"sessionId": sid, "ruleId": "../../etc"}),
                ("agent/permissions/revoke", {"sessionId": sid, "ruleId": 7}),
            ]
            for method, params in bad:
                error = await agent.error(method, params)
                assert error.code == INVALID_PARAMS, (method, params, error)
            missing = await agent.error("agent/permissions/list", {"sessionId": "nosuchsession"})
            assert missing.code == -32010  # session_not_found
    assert json.dumps(asked).count("PWNED") == 1
    record("stall: permission prompts, always-allow (ms)", round(stall.longest_ms))
