"""Files and patterns that must not freeze the server, and a SIGTERM that must not leave a
command running: FIFOs in the workspace, a catastrophic regex, SIGTERM during run_command."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import stall_probe
from tests.reliability.support import FAKE_KEY, record, scaled, server_pid, session_files

pytestmark = pytest.mark.reliability


WARM_UP = {"content": [{"type": "text", "text": "ready"}]}
"""A first turn, so the probe measures the tools, not the provider being built."""


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": tool_input}


def env_for(api: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}


def finished(updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        u["update"]
        for u in updates
        if u["update"]["kind"] == "tool_call_update"
        and u["update"]["status"] in ("completed", "failed")
    ]


def tool_results(api: FakeAnthropic) -> list[str]:
    """The text of each tool result the model got back."""
    results = api.requests[-1]["body"]["messages"][-1]["content"]
    return [
        r["content"] if isinstance(r["content"], str) else r["content"][0]["text"] for r in results
    ]


async def test_fifos_in_the_workspace_freeze_nothing(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "notes.txt").write_text("needle\n")
    os.mkfifo(workspace / "pipe")
    os.mkfifo(workspace / "sub" / "log.jsonl")
    calls = [
        tool("grep", pattern="needle"),
        tool("list_files"),
        tool("read_file", path="pipe"),
        tool("write_file", path="pipe", content="x"),
        tool("edit_file", path="sub/log.jsonl", old_string="a", new_string="b"),
    ]
    with FakeAnthropic() as api:
        api.enqueue(WARM_UP, {"content": calls}, {"content": [{"type": "text", "text": "done"}]})
        async with connect([workspace], tmp_path / "home", env=env_for(api)) as agent:
            await agent.request("agent/session/prompt", {"prompt": "warm up"}, 30)
            async with stall_probe(agent) as stall:
                started = time.monotonic()
                result = await agent.request("agent/session/prompt", {"prompt": "fifo"}, 30)
                took = time.monotonic() - started
            ends = finished(agent.updates)
        results = tool_results(api)
    assert result["stopReason"] == "end_turn"
    assert [end["status"] for end in ends] == ["completed"] * 2 + ["failed"] * 3
    assert results[0] == "notes.txt:1:needle"
    assert results[1] == "notes.txt"
    for failed in results[2:]:
        assert "FIFO (named pipe), not a regular file" in failed
    assert (workspace / "pipe").is_fifo() and (workspace / "sub" / "log.jsonl").is_fifo()
    assert stall.longest_ms < 500, stall
    record("tools.fifo_prompt_s", round(took, 2))
    record("tools.fifo_longest_stall_ms", round(stall.longest_ms))


async def test_a_catastrophic_regex_answers_at_once(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "evil.txt").write_text(("a" * 41 + "!\n") * 2000)
    with FakeAnthropic() as api:
        api.enqueue(
            WARM_UP,
            {"content": [tool("grep", pattern="(a+)+$")]},
            {"content": [{"type": "text", "text": "done"}]},
        )
        async with connect([workspace], tmp_path / "home", env=env_for(api)) as agent:
            await agent.request("agent/session/prompt", {"prompt": "warm up"}, 30)
            async with stall_probe(agent) as stall:
                started = time.monotonic()
                result = await agent.request("agent/session/prompt", {"prompt": "regex"}, 30)
                took = time.monotonic() - started
        results = tool_results(api)
    assert result["stopReason"] == "end_turn"
    assert results[0].startswith("No matches for (a+)+$")
    assert took < 10
    assert stall.longest_ms < 500, stall
    record("tools.catastrophic_regex_prompt_s", round(took, 2))
    record("tools.catastrophic_regex_longest_stall_ms", round(stall.longest_ms))


async def test_a_name_that_is_not_utf8_goes_through_a_turn(tmp_path: Path) -> None:
    """Listed, searched and stored: the session line encodes, the turn ends normally."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / os.fsdecode(b"caf\xe9.txt")).write_text("needle\n")
    calls = [
        tool("list_files"),
        tool("grep", pattern="needle"),
        tool("write_file", path="a.txt", content="written in the same turn\n"),
    ]
    with FakeAnthropic() as api:
        api.enqueue({"content": calls}, {"content": [{"type": "text", "text": "done"}]})
        async with connect([workspace], tmp_path / "home", env=env_for(api)) as agent:
            result = await agent.request("agent/session/prompt", {"prompt": "names"}, 30)
            listed = await agent.request(
                "agent/checkpoint/list", {"sessionId": result["sessionId"]}
            )
        results = tool_results(api)
    assert result["stopReason"] == "end_turn"
    assert results[:2] == ["caf\\xe9.txt", "caf\\xe9.txt:1:needle"]
    assert len(listed["checkpoints"]) == 1
    for path in session_files(tmp_path / "home"):
        assert "caf\\\\xe9.txt" in path.read_text()


async def test_a_large_tree_is_listed_and_searched_off_the_event_loop(tmp_path: Path) -> None:
    """list_files and grep over a git work tree of many files: the walk, the glob filter and
    the search all run outside the event loop."""
    workspace = tmp_path / "project"
    count = scaled(20_000)
    for n in range(count):
        folder = workspace / f"pkg{n % 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{n}.py").write_text(f"VALUE_{n} = {n}\n")
    (workspace / ".gitignore").write_text("pkg9*/\n")
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    calls = [
        tool("list_files", pattern="*.py", limit=10),
        tool("grep", pattern="VALUE_1234\\b", glob="*.py"),
        tool("grep", pattern="no such text anywhere"),
    ]
    with FakeAnthropic() as api:
        api.enqueue(WARM_UP, {"content": calls}, {"content": [{"type": "text", "text": "done"}]})
        async with connect([workspace], tmp_path / "home", env=env_for(api)) as agent:
            await agent.request("agent/session/prompt", {"prompt": "warm up"}, 30)
            async with stall_probe(agent) as stall:
                started = time.monotonic()
                result = await agent.request("agent/session/prompt", {"prompt": "big"}, 120)
                took = time.monotonic() - started
        results = tool_results(api)
    assert result["stopReason"] == "end_turn"
    assert len(results[0].splitlines()) == 11 and "more than 10 files" in results[0]
    assert results[1] == "pkg34/mod1234.py:1:VALUE_1234 = 1234"
    assert results[2].startswith("No matches")
    # the walk runs in a worker thread of the server; on a loaded machine that thread, holding
    # the GIL while descheduled, can delay the loop for a while: a freeze is what this catches
    assert stall.longest_ms < 1000, stall
    record("tools.large_tree_files", count)
    record("tools.large_tree_prompt_s", round(took, 2))
    record("tools.large_tree_longest_stall_ms", round(stall.longest_ms))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


async def test_sigterm_during_run_command_kills_its_process_group(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    command = "sleep 300 & echo $! > bg.pid; sleep 300"
    with FakeAnthropic() as api:
        api.enqueue({"content": [tool("run_command", command=command)]})
        async with connect(
            [workspace],
            tmp_path / "home",
            env=env_for(api),
            options={"permissionUi": True},
            shutdown=False,
        ) as agent:

            @agent.client.feature("agent/session/requestPermission")
            def allow(_: Any) -> dict[str, Any]:
                return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

            prompt = asyncio.ensure_future(
                agent.request("agent/session/prompt", {"prompt": "run"}, 30)
            )
            pid_file = workspace / "bg.pid"
            deadline = time.monotonic() + 20
            while not pid_file.exists() or not pid_file.read_text().strip():
                assert time.monotonic() < deadline and not prompt.done()
                await asyncio.sleep(0.05)
            background = int(pid_file.read_text())
            server = agent.client._server  # type: ignore[attr-defined]
            os.kill(server_pid(agent), signal.SIGTERM)
            await asyncio.wait_for(server.wait(), 15)
            prompt.cancel()
    deadline = time.monotonic() + 5
    while alive(background):
        assert time.monotonic() < deadline, "the command's background process survived"
        await asyncio.sleep(0.05)
