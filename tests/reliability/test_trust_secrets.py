"""Nothing secret is readable: the API key is not in the server's /proc environ (nor in what the
agent's commands can read there), and the debug log is private."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import stall_probe
from tests.reliability.support import FAKE_KEY, record, server_pid, store_modes

pytestmark = pytest.mark.reliability


def run(command: str) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": command}}]}


async def test_key_not_readable_through_proc(tmp_path: Path) -> None:
    workspace, home = tmp_path / "project", tmp_path / "home"
    workspace.mkdir()
    log_file = tmp_path / "logs" / "deeper" / "server.log"
    with FakeAnthropic() as api:
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect(
            [workspace],
            home,
            env=env,
            options={"permissionUi": True},
            args=["--log-file", str(log_file), "--log-level", "DEBUG"],
        ) as agent:

            @agent.client.feature("agent/session/requestPermission")
            def allow(_: Any) -> dict[str, Any]:
                return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

            pid = server_pid(agent)
            api.enqueue(
                run(
                    f"tr '\\0' '\\n' < /proc/$PPID/environ; echo ---; "
                    f"tr '\\0' '\\n' < /proc/{pid}/environ; echo; echo pid=$PPID"
                ),
                {"content": [{"type": "text", "text": "read it"}]},
            )
            async with stall_probe(agent) as stall:
                outcome = await agent.request("agent/session/prompt", {"prompt": "env"}, 60)
            assert outcome["stopReason"] == "end_turn"
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            seen = json.dumps([agent.updates, outcome])
        requests = api.requests
    tool_result = json.dumps(requests[1]["body"]["messages"][-1])
    assert f"pid={pid}" in tool_result  # the command did read the server's own environ
    assert "AGENT_LS_HOME" in tool_result
    assert FAKE_KEY not in tool_result, tool_result
    assert FAKE_KEY.encode() not in environ
    assert FAKE_KEY not in seen
    # the key still reached the API, from the server's memory
    digest = hashlib.sha256(FAKE_KEY.encode()).hexdigest()
    assert [r["keyDigest"] for r in requests] == [digest, digest]
    stored = b"".join(p.read_bytes() for p, _ in store_modes(home) if p.is_file())
    assert FAKE_KEY.encode() not in stored
    assert FAKE_KEY not in log_file.read_text(errors="replace")
    record("stall: run_command reading /proc environ (ms)", round(stall.longest_ms))


async def test_log_file_is_private(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    new_log = tmp_path / "made" / "by" / "server.log"
    old_log = tmp_path / "old.log"
    old_log.write_text("from before\n")
    old_log.chmod(0o644)
    for log_file in (new_log, old_log):
        async with connect(
            [workspace], tmp_path / "home", args=["--log-file", str(log_file)]
        ) as agent:
            await agent.request("agent/session/list", {})
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600, log_file
    assert old_log.read_text().startswith("from before\n")
    for folder in (tmp_path / "made", tmp_path / "made" / "by"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
