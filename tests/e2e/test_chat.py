"""`agent-ls chat` end to end: a real terminal session over a pipe, the server as its child."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import server_env
from tests.fakes.anthropic_server import FakeAnthropic


def chat(workspace: Path, home: Path, lines: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "agent_ls", "chat", "--workspace", str(workspace), "--new"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env=server_env(home, env),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_chat_streams_reply_lists_sessions_and_reverts(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with FakeAnthropic() as api:
        api.enqueue(
            {
                "content": [
                    {
                        "type": "tool_use",
                        "name": "write_file",
                        "input": {"path": "hello.txt", "content": "hi\n"},
                    }
                ]
            },
            {"content": [{"type": "text", "text": "Wrote hello.txt for you."}]},
        )
        out = chat(
            workspace,
            tmp_path / "home",
            ["write a file", "/checkpoints", "/revert", "/sessions", "/rename demo", "/quit"],
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"},
        )
    assert "Wrote hello.txt for you." in out
    assert "+hi" in out  # the diff of the agent's edit
    assert "created" in out and "restored" in out
    assert not (workspace / "hello.txt").exists()
    assert "1. write a file" in out
    assert "Renamed to demo" in out


def test_chat_without_key_says_how_to_set_one(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    out = chat(workspace, tmp_path / "home", ["hello", "/quit"], {})
    banner, _, after_prompt = out.partition("/help for commands")
    assert "export ANTHROPIC_API_KEY" in banner
    assert "No API key. Set ANTHROPIC_API_KEY" in after_prompt  # the turn's own error


def test_chat_shows_the_whole_command_and_manages_permissions(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    command = "echo first line &&" + " true &&" * 15 + "\necho second line"
    run = {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": command}}]}
    with FakeAnthropic() as api:
        api.enqueue(run, {"content": [{"type": "text", "text": "Ran it."}]})
        out = chat(
            workspace,
            tmp_path / "home",
            ["run it", "a", "/permissions", "/permissions revoke 1", "/permissions", "/quit"],
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"},
        )
    assert command in out
    assert "[n] Reject  [y] Allow once" in out
    assert "1. allow the command: " + command in out
    assert "Revoked: allow the command" in out
    assert "No remembered permissions in this session." in out
