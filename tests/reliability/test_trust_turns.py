"""A turn's failures stay inside the turn: an early cancel does not break later prompts, and an
internal failure mid-turn does not lose the checkpoint of the files the turn already changed."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.providers import make_provider
from agent_ls.core import prompting as prompting_module
from agent_ls.core.service import AgentService
from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability import crash_child
from tests.reliability.stall import stall_probe
from tests.reliability.support import FAKE_KEY, check_file, record, session_files

pytestmark = pytest.mark.reliability


def text(reply: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": reply}]}


def write_file(path: str, content: str) -> dict[str, Any]:
    return {
        "content": [
            {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
        ]
    }


def service_for(workspace: Path, home: Path, script: list[dict[str, Any]]) -> AgentService:
    turns = home.parent / "turns.json"
    turns.write_text(json.dumps(script))
    return AgentService(
        [workspace],
        crash_child.Client(),  # type: ignore[arg-type]
        store_root=home,
        config=AgentConfig(provider="scripted", script=str(turns)),
    )


async def test_cancel_while_the_provider_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider build is held until the first turn was cancelled, so the cancel always
    lands while the turn waits for it."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    release = threading.Event()

    def slow_build(config: AgentConfig) -> Any:
        assert release.wait(10)
        return make_provider(config)

    monkeypatch.setattr(prompting_module, "make_provider", slow_build)
    service = service_for(workspace, tmp_path / "home", [text("first"), text("second")])
    sid = service.sessions.new(name=None, workspace=None).session_id
    first = asyncio.ensure_future(service.prompting.prompt(sid, "cancel me"))
    await asyncio.sleep(0.05)
    assert service.prompting.cancel(sid)
    result = (await asyncio.wait_for(first, 5)).result
    assert result.stop_reason == "cancelled"
    release.set()
    second = (await asyncio.wait_for(service.prompting.prompt(sid, "and now"), 10)).result
    assert second.stop_reason == "end_turn", second.error
    entries = check_file(session_files(tmp_path / "home")[0])
    users = [e for e in entries if e.get("role") == "user"]
    assert [u["content"][0]["text"] for u in users] == ["cancel me", "and now"]


async def test_early_cancel_over_stdio(tmp_path: Path) -> None:
    """The same through the real server: cancel the very first prompt, prompt again."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    with FakeAnthropic() as api:
        api.enqueue(text("never seen"), text("second answer"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([workspace], tmp_path / "home", env=env) as agent:
            async with stall_probe(agent) as stall:
                session = await agent.request("agent/session/new", {})
                sid = session["sessionId"]
                first = asyncio.ensure_future(
                    agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "hi"}, 60)
                )
                await asyncio.sleep(0.02)
                agent.client.protocol.notify("agent/session/cancel", {"sessionId": sid})
                assert (await first)["stopReason"] in ("cancelled", "end_turn")
                second = await agent.request(
                    "agent/session/prompt", {"sessionId": sid, "prompt": "again"}, 60
                )
            assert second["stopReason"] == "end_turn"
    record("stall: early cancel, then a prompt (ms)", round(stall.longest_ms))


async def test_internal_failure_keeps_the_checkpoint(tmp_path: Path) -> None:
    """The turn writes a file, then something inside the server fails (here: sending an update
    raises). The turn ends with an error result and its checkpoint still names the file."""
    workspace, home = tmp_path / "project", tmp_path / "home"
    workspace.mkdir()
    service = service_for(workspace, home, [write_file("made.txt", "made\n"), text("done")])
    failed: list[str] = []

    def send_update(session_id: str, turn_id: str, event: Any) -> None:
        name = type(event).__name__
        if name == "ToolCallUpdated" and event.status == "completed" and not failed:
            failed.append(name)
            raise RuntimeError("the update could not be sent")

    service.editor.send_update = send_update  # type: ignore[method-assign]
    sid = service.sessions.new(name=None, workspace=None).session_id
    outcome = await service.prompting.prompt(sid, "write it")
    result, checkpoint = outcome.result, outcome.checkpoint
    assert failed
    assert (workspace / "made.txt").read_text() == "made\n"
    assert result.stop_reason == "error"
    assert result.error and "RuntimeError" in result.error and "Traceback" not in result.error
    entries = check_file(session_files(home)[0])
    [entry] = [e for e in entries if e["type"] == "checkpoint"]
    assert [(f["path"], f["before"]) for f in entry["files"]] == [
        ((workspace / "made.txt").resolve().as_posix(), None)
    ]
    assert checkpoint is not None and checkpoint.checkpoint_id == entry["id"]
