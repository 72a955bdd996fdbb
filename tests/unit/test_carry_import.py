"""Importing Claude Code, pi and Codex sessions from hand-made files in their formats
(tests/fixtures/import/): conversion, branches, titles, times, skipped lines, idempotence."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from agent_ls.agent.conversation import build_messages
from agent_ls.carry.agents import import_agent
from agent_ls.carry.sources import claude_code, pi
from agent_ls.cli import sessions as cli_sessions
from agent_ls.sessions import SessionStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
CLAUDE = FIXTURES / "claude-code" / "7f1c2a9e-0b7d-4c55-9a11-3e0d6c1b2a10.jsonl"
CODEX = (
    FIXTURES / "codex" / "rollout-2025-09-10T08-00-00-5b0e0c55-3f1d-4c2e-9d55-2a8f0e7c1d34.jsonl"
)
LEGACY_CODEX = FIXTURES / "codex" / "rollout-2025-04-01T09-00-00-legacy.jsonl"


def digest(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes: the sources must not change."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_for(workspace: Path, source: Path, target: Path) -> None:
    """A fixture as if recorded in ``workspace`` (its /home/u/proj replaced)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text().replace("/home/u/proj", str(workspace)))


def roles(path: list[dict]) -> list[str]:
    return [e.get("role") or e["type"] for e in path]


def test_claude_code_file_becomes_a_tree_with_its_title_times_and_tool_calls(store):
    before = digest(FIXTURES)
    report = import_agent(store, "claude-code", CLAUDE)
    assert digest(FIXTURES) == before
    [info] = report.imported
    assert info.session_id == "claude-7f1c2a9e-0b7d-4c55-9a11-3e0d6c1b2a10"
    assert info.name == "Greeting fix" and info.first_message == "Make greet() say hello"
    assert info.created_at == "2025-06-01T10:00:00.000Z"
    session = store.load(info.session_id)
    assert session.header["importedFrom"]["agent"] == "claude-code"
    assert session.header["cwd"] == str(store.workspace)
    path = session.path()
    assert roles(path) == ["user", "assistant", "tool_result", "assistant", "user", "session_info"]
    thinking, edit = path[1]["content"]  # one reply written over two lines: one entry
    assert thinking == {
        "type": "thinking",
        "thinking": "Look at greet.py first.",
        "signature": "sig-abc",
    }
    assert edit["type"] == "tool_use" and edit["name"] == "Edit" and edit["id"] == "toolu_1"
    assert path[2]["content"][0]["tool_use_id"] == "toolu_1"
    assert path[1]["model"] == "claude-sonnet-4-20250514" and path[3]["stopReason"] == "end_turn"
    assert [e["ts"] for e in path[:2]] == ["2025-06-01T10:00:00.000Z", "2025-06-01T10:00:01.000Z"]
    branch = [e for e in session.entries.values() if e["id"] not in {p["id"] for p in path}]
    assert [b["content"][0]["text"] for b in branch] == ["An earlier answer, on a branch."]
    assert branch[0]["parentId"] == path[0]["id"]  # a sibling of the kept reply
    assert "A sub-agent's prompt" not in json.dumps(list(session.entries.values()))
    assert any("1 line(s)" in p for p in report.problems)
    assert any("mystery-entry: 1" in p for p in report.problems)
    messages = build_messages(path)  # the model can go on from it
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]


def test_pi_v3_keeps_branches_compaction_and_name(store):
    report = import_agent(store, "pi", FIXTURES / "pi" / "v3.jsonl")
    [info] = report.imported
    assert info.name == "File listing" and info.session_id.startswith("pi-3d1f7a52")
    session = store.load(info.session_id)
    path = session.path()
    assert roles(path) == [
        "user", "assistant", "tool_result", "assistant", "user", "user", "compaction",
        "user", "session_info",
    ]  # fmt: skip
    assistant = path[1]
    assert [b["type"] for b in assistant["content"]] == ["thinking", "tool_use"]  # unsigned: out
    assert assistant["content"][1]["input"] == {"command": "ls"}
    assert assistant["stopReason"] == "tool_use" and assistant["usage"]["input_tokens"] == 12
    assert path[2]["content"][0]["content"] == "README.md\nsrc"
    assert "wc -l README.md" in path[5]["content"] and "(exit 0)" in path[5]["content"]
    assert path[6]["firstKeptEntryId"] == path[4]["id"]  # the source's id, mapped
    off_path = {e["id"] for e in session.entries.values()} - {e["id"] for e in path}
    texts = [session.get(i)["content"][0]["text"] for i in off_path]
    assert sorted(texts) == ["An answer the user branched away from.", "Now count the lines"]
    assert any("future_entry_kind: 1" in p for p in report.problems)
    assert any("1 line(s)" in p for p in report.problems)


def test_pi_v1_and_v2(store):
    v1 = import_agent(store, "pi", FIXTURES / "pi" / "v1.jsonl").imported[0]
    path = store.load(v1.session_id).path()
    assert roles(path) == ["user", "assistant", "tool_result", "assistant"]
    assert path[1]["content"][0]["name"] == "read" and path[3]["ts"] == "2024-12-03T14:00:04.000Z"
    v2 = import_agent(store, "pi", FIXTURES / "pi" / "v2.jsonl").imported[0]
    path = store.load(v2.session_id).path()
    assert [e["content"] for e in path][1] == "Remember the style guide."  # hookMessage
    assert path[2]["model"] == "gpt-4o"


def test_codex_rollout_both_formats(store):
    report = import_agent(store, "codex", CODEX)
    [info] = report.imported
    path = store.load(info.session_id).path()
    assert roles(path) == [
        "user", "assistant", "tool_result", "assistant", "tool_result", "assistant",
        "compaction", "user",
    ]  # fmt: skip
    assert path[0]["content"][0]["text"] == "Run the tests"  # environment context left out
    shell = path[1]["content"][0]
    assert shell["name"] == "shell" and shell["input"]["command"][-1] == "pytest -q"
    assert path[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "call_A1",
        "content": "3 passed in 0.02s\n",
    }
    assert path[3]["content"][0]["name"] == "apply_patch"
    assert path[5]["model"] == "gpt-5-codex"
    assert path[6]["firstKeptEntryId"] == path[7]["id"]
    assert any("brand_new_kind: 1" in p for p in report.problems)
    legacy = import_agent(store, "codex", LEGACY_CODEX).imported[0]
    path = store.load(legacy.session_id).path()
    assert roles(path) == ["user", "assistant", "tool_result", "assistant"]
    assert path[2]["content"][0]["content"] == "all:\n\tcc main.c\n"


@pytest.fixture
def agent_homes(tmp_path, monkeypatch, store):
    """Each agent's own folder, holding the fixtures as recorded in this workspace and in
    another folder."""
    other = tmp_path / "other"
    other.mkdir()
    ws = store.workspace
    claude_root = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_root))
    projects = claude_root / "projects"
    copy_for(ws, CLAUDE, projects / claude_code.folder_name(ws) / CLAUDE.name)
    copy_for(other, CLAUDE, projects / claude_code.folder_name(other) / "other.jsonl")
    text = (projects / claude_code.folder_name(other) / "other.jsonl").read_text()
    other_file = projects / claude_code.folder_name(other) / "other.jsonl"
    other_file.write_text(text.replace("7f1c2a9e", "00000000"))
    pi_root = tmp_path / "pi"
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(pi_root))
    for name in ("v1.jsonl", "v2.jsonl", "v3.jsonl"):
        copy_for(ws, FIXTURES / "pi" / name, pi_root / "sessions" / pi.folder_name(ws) / name)
    codex_root = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(codex_root))
    copy_for(ws, CODEX, codex_root / "sessions" / "2025" / "09" / "10" / CODEX.name)
    copy_for(
        other, LEGACY_CODEX, codex_root / "sessions" / "2025" / "04" / "01" / LEGACY_CODEX.name
    )
    return other


def test_default_is_this_workspace_and_a_second_run_imports_nothing(store, agent_homes, tmp_path):
    before = digest(tmp_path / "claude") | digest(tmp_path / "pi") | digest(tmp_path / "codex")
    reports = {agent: import_agent(store, agent) for agent in ("claude-code", "pi", "codex")}
    assert {agent: len(r.imported) for agent, r in reports.items()} == {
        "claude-code": 1,
        "pi": 3,
        "codex": 1,
    }
    assert "left out 1 session(s) of other folders" in reports["codex"].problems[-1]
    again = [import_agent(store, agent) for agent in ("claude-code", "pi", "codex")]
    assert [r.imported for r in again] == [[], [], []]
    assert [r.skipped for r in again] == [1, 3, 1]
    assert len(store.list(limit=None)[0]) == 5
    store.delete("claude-7f1c2a9e-0b7d-4c55-9a11-3e0d6c1b2a10")  # in the trash: still known
    assert import_agent(store, "claude-code").skipped == 1
    after = digest(tmp_path / "claude") | digest(tmp_path / "pi") | digest(tmp_path / "codex")
    assert after == before


def test_all_takes_every_folder_into_its_own_store(store, agent_homes):
    other = agent_homes
    report = import_agent(store, "claude-code", all_folders=True)
    assert sorted(i.workspace for i in report.imported) == sorted(
        [str(store.workspace), str(other)]
    )
    other_store = SessionStore(other, root=store.root)
    try:
        [info] = other_store.list()[0]
        assert info.session_id == "claude-00000000-0b7d-4c55-9a11-3e0d6c1b2a10"
    finally:
        other_store.close()
    assert import_agent(store, "claude-code", all_folders=True).skipped == 2
    codex = import_agent(store, "codex", all_folders=True)  # the legacy file names no folder
    assert len(codex.imported) == 2


def test_a_file_that_is_not_a_session_is_a_problem_not_a_failure(store, tmp_path):
    folder = tmp_path / "pi-folder"
    folder.mkdir()
    (folder / "broken.jsonl").write_text('{"type":"message"}\n')
    shutil.copy(FIXTURES / "pi" / "v2.jsonl", folder / "v2.jsonl")
    report = import_agent(store, "pi", folder)
    assert len(report.imported) == 1
    assert any("broken.jsonl" in p and "not a pi session header" in p for p in report.problems)


def test_cli_import_from_prints_and_json(store, agent_homes, capsys):
    parser = argparse.ArgumentParser()
    cli_sessions.add_commands(parser.add_subparsers())
    args = parser.parse_args(
        ["import", "--from", "pi", "--workspace", str(store.workspace), "--json"]
    )
    assert cli_sessions.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["imported"]) == 3 and out["skipped"] == 0
    assert (
        cli_sessions.run(
            parser.parse_args(["import", "--from", "pi", "--workspace", str(store.workspace)])
        )
        == 0
    )
    assert "imported 0 session(s), skipped 3 already imported" in capsys.readouterr().out
