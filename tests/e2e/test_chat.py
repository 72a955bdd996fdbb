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


def test_chat_commands_clear_diff_resume_and_unknown(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    write = {
        "content": [
            {"type": "tool_use", "name": "write_file", "input": {"path": "a.txt", "content": "x\n"}}
        ]
    }
    with FakeAnthropic() as api:
        api.enqueue(write, {"content": [{"type": "text", "text": "done"}]})
        out = chat(
            workspace,
            tmp_path / "home",
            [
                "write a",
                "/diff",
                "/diff 7",
                "/rename first",
                "/nosuch thing",
                "/compact",
                "/clear",
                "clear",
                "/sessions",
                "/resume first",
                "/quit",
            ],
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"},
        )
        prompts = [r["body"]["messages"][-1]["content"] for r in api.requests]
    assert out.count("+x") == 2  # the edit's diff as it happened, then /diff's
    assert "no checkpoint 7" in out
    assert "/nosuch is not a command; /help lists them." in out
    assert "Nothing to compact: the conversation is short enough already." in out
    assert "The old conversation is kept" in out
    assert any("clear" in str(p) for p in prompts)  # `clear` alone is a prompt
    assert "── first ──" in out  # resumed by name


def test_chat_without_key_still_browses_sessions(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    home = tmp_path / "home"
    chat(workspace, home, ["an old question", "/quit"], {})
    out = chat(workspace, home, ["/sessions", "/resume 2", "/quit"], {})
    assert "export ANTHROPIC_API_KEY" in out
    assert "an old question" in out
    assert "── an old question ──" in out


def test_chat_model_switches_by_restarting_the_server_on_the_same_session(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with FakeAnthropic() as api:
        out = chat(
            workspace,
            tmp_path / "home",
            ["first", "/model", "/model claude-test-2", "second", "/model", "/quit"],
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"},
        )
        models = [r["body"]["model"] for r in api.requests]
        histories = [len(r["body"]["messages"]) for r in api.requests]
    assert models[-1] == "claude-test-2" and models[0] != "claude-test-2"
    assert histories == [1, 3]  # the same session continued after the restart
    assert "Now using claude-test-2." in out
    assert out.count("model: claude-test-2") == 1


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
    assert "no (n) / yes (y) / always (a) / no, because" in out  # reject first
    assert "1. allow the command: " + command in out
    assert "Revoked: allow the command" in out
    assert "No remembered permissions in this session." in out


def test_chat_turn_line_costs_known_models_and_thinking_folds(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    usage = {
        "input_tokens": 1200,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 100_000,
        "output_tokens": 4000,
    }
    thought = "The user wants a plan.\nFirst read config.py.\nThen the tests."
    reply = {
        "content": [{"type": "thinking", "thinking": thought}, {"type": "text", "text": "Plan."}],
        "usage": usage,
    }
    with FakeAnthropic() as api:
        api.enqueue(reply, reply)
        env = {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"}
        out = chat(
            workspace, tmp_path / "home", ["plan", "/thinking", "/thinking on", "/quit"], env
        )
        local = chat(
            workspace,
            tmp_path / "home",
            ["plan", "/sessions", "/resume 2", "/quit"],
            {**env, "AGENT_LS_MODEL": "qwen3"},
        )
    # sonnet 4.6: 1200 * $3 + 2000 * $3.75 + 100000 * $0.30 + 4000 * $15 per million
    assert "$0.101 · context 103,200/200,000 (52%) · claude-sonnet-4-6]" in out
    assert "▸ thinking: The user wants a plan. (/thinking shows it all, 3 lines)" in out
    assert "First read config.py." not in out.split("/thinking shows it all")[0]
    assert out.count("Then the tests.") == 1  # /thinking unfolds it
    assert "Thinking is shown in full." in out
    line = next(x for x in local.splitlines() if "context 103,200" in x)
    assert "$" not in line and "qwen3" in line  # an unknown model: no cost, never a wrong one
    assert local.count("▸ thinking: The user wants a plan.") == 2  # live, then reloaded


def test_chat_rewind_takes_a_number_and_scope_from_a_script(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with FakeAnthropic() as api:
        out = chat(
            workspace,
            tmp_path / "home",
            ["one", "two", "three", "/rewind 9 both", "/rewind 2 conversation", "four", "/quit"],
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"},
        )
        histories = [len(r["body"]["messages"]) for r in api.requests]
    assert "no prompt 9: /rewind lists them 1-3" in out
    assert "Rewound to just before prompt 2" in out
    assert histories == [1, 3, 5, 3]  # "four" follows "one" and its answer
