"""A real third-party ACP client: acpx (npm, pinned in tests/acp/acpx) runs prompts against
`agent-ls acp` with the fake API. `make test` installs it; so does this test when it is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import server_env
from tests.fakes.anthropic_server import FakeAnthropic

ACPX_DIR = Path(__file__).parent / "acpx"
ACPX = ACPX_DIR / "node_modules" / ".bin" / "acpx"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="acpx needs Node.js")


@pytest.fixture(scope="module")
def acpx() -> Path:
    if not ACPX.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"], cwd=ACPX_DIR, check=True, timeout=300
        )
    return ACPX


def run(acpx: Path, workspace: Path, home: Path, api: FakeAnthropic, prompt: str) -> list[Any]:
    env = server_env(
        home, {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test-secret"}
    )
    env["HOME"] = str(home / "user")  # acpx keeps its own state under ~/.acpx
    done = subprocess.run(
        [
            str(acpx),
            "--agent",
            f"{sys.executable} -m agent_ls acp",
            "--cwd",
            str(workspace),
            "--format",
            "json",
            "--approve-all",
            "--timeout",
            "90",
            "exec",
            prompt,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_acpx_runs_a_prompt_that_edits_through_its_fs(
    acpx: Path, api: FakeAnthropic, workspace: Path, home: Path
) -> None:
    (workspace / "greeting.txt").write_text("hello\n")
    edit = {"path": "greeting.txt", "old_string": "hello", "new_string": "goodbye"}
    api.enqueue(
        {"content": [{"type": "tool_use", "name": "edit_file", "input": edit}]},
        {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": "ls"}}]},
        {"content": [{"type": "text", "text": "Changed the greeting."}]},
    )
    messages = run(acpx, workspace, home, api, "change the greeting")
    assert (workspace / "greeting.txt").read_text() == "goodbye\n"
    methods = [m.get("method") for m in messages]
    assert "fs/read_text_file" in methods and "fs/write_text_file" in methods
    assert "session/request_permission" in methods  # run_command asks; --approve-all allows
    assert "terminal/create" in methods  # acpx offers terminals: the command runs in one
    updates = [m["params"]["update"] for m in messages if m.get("method") == "session/update"]
    text = "".join(
        u["content"]["text"] for u in updates if u["sessionUpdate"] == "agent_message_chunk"
    )
    assert text == "Changed the greeting."
    statuses = [u.get("status") for u in updates if u["sessionUpdate"] == "tool_call_update"]
    assert statuses.count("completed") == 2
    results = [m["result"] for m in messages if "result" in m and "stopReason" in m["result"]]
    assert results == [{"stopReason": "end_turn", "usage": results[0]["usage"]}]
