"""Two servers on one workspace, as when VS Code and Neovim are open on the same folder."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Agent, connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.support import (
    BUSY,
    FAKE_KEY,
    check_file,
    record,
    scaled,
    server_pid,
    session_files,
)

pytestmark = pytest.mark.reliability

ROUNDS = scaled(6)


async def ids(agent: Agent) -> set[str]:
    listed = await agent.request("agent/session/list", {"limit": 1000})
    return {s["sessionId"] for s in listed["sessions"]}


async def until(predicate: Any, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.timeout(300)
async def test_two_servers_share_one_store(tmp_path: Path) -> None:
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    with FakeAnthropic() as api:
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with (
            connect([workspace], home, env=env) as a,
            connect([workspace], home, env=env) as b,
        ):
            # listChanged reaches the other window, both ways
            sa = (await a.request("agent/session/new", {"name": "from a"}))["sessionId"]
            seen_b = await until(lambda: b.list_changed > 0, 5)
            sb = (await b.request("agent/session/new", {"name": "from b"}))["sessionId"]
            seen_a = await until(lambda: a.list_changed > 0, 5)
            assert await ids(a) == await ids(b) == {sa, sb}

            # one session, two servers: the second gets busy while the first runs its turn
            api.enqueue({"content": [{"type": "text", "text": "slow " * 100}], "delay_ms": 20})
            running = asyncio.ensure_future(
                a.request("agent/session/prompt", {"sessionId": sa, "prompt": "slow"}, 60)
            )
            await until(lambda: any(u["sessionId"] == sa for u in a.updates), 30)
            busy = await b.error("agent/session/prompt", {"sessionId": sa, "prompt": "me too"})
            assert busy.code == BUSY, busy
            assert busy.data["ownerPid"] == server_pid(a)  # type: ignore[attr-defined]
            assert (await running)["stopReason"] == "end_turn"

            # different sessions, both servers at once, round after round
            expected = {sa: 1, sb: 0}
            for n in range(ROUNDS):
                extra = (await a.request("agent/session/new", {}))["sessionId"]
                expected[extra] = 0
                jobs = [
                    a.request("agent/session/prompt", {"sessionId": sa, "prompt": f"a{n}"}, 60),
                    b.request("agent/session/prompt", {"sessionId": sb, "prompt": f"b{n}"}, 60),
                    b.request("agent/session/prompt", {"sessionId": extra, "prompt": "x"}, 60),
                    a.request("agent/session/list", {}),
                    b.request("agent/session/list", {}),
                ]
                results = await asyncio.gather(*jobs)
                assert all(r["stopReason"] == "end_turn" for r in results[:3]), results
                expected[sa] += 1
                expected[sb] += 1
                expected[extra] += 1
            assert await ids(a) == await ids(b) == set(expected)
            # rename the same idle session from both at once: each one lands or is busy
            outcomes = await asyncio.gather(
                a.request("agent/session/rename", {"sessionId": sb, "name": "by a"}),
                b.request("agent/session/rename", {"sessionId": sb, "name": "by b"}),
                return_exceptions=True,
            )
            for outcome in outcomes:
                assert isinstance(outcome, dict) or getattr(outcome, "code", None) == BUSY
    users: dict[str, int] = {}
    for path in session_files(home):
        entries = check_file(path)
        users[entries[0]["id"]] = sum(
            e.get("type") == "message" and e.get("role") == "user" for e in entries
        )
    assert users == expected
    record("two_servers.list_changed_seconds", [round(seen_b, 2), round(seen_a, 2)])
    record("two_servers.concurrent_rounds", ROUNDS)
