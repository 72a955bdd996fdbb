"""`agent-ls sessions …` as a user and a script meet it: names, errors, pipes, the trash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from agent_ls.sessions import SessionStore
from agent_ls.sessions.layout import INDEX
from tests.e2e.harness import REPO


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def workspace(tmp_path: Path, home: Path) -> Path:
    ws = tmp_path / "proj"
    ws.mkdir()
    return ws


def cli(workspace: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_ls", "sessions", *argv, "--workspace", str(workspace)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.count("\n") <= 1


def test_ids_by_unique_prefix_or_name_and_ambiguity_is_an_error(workspace: Path) -> None:
    store = SessionStore(workspace)
    ids = [store.create(name=name).session_id for name in ("alpha", "twin", "twin")]
    store.close()
    shown = cli(workspace, "show", ids[0][:6])  # ids made together share their time prefix
    assert shown.returncode == 1 and "is the start of an id of 3 sessions" in shown.stderr
    no_traceback(shown)
    assert ids[0] in cli(workspace, "show", "alpha").stdout
    twin = cli(workspace, "show", "twin", "--json")
    assert twin.returncode == 1
    assert json.loads(twin.stdout)["error"]["kind"] == "ambiguous"
    assert "is the name of 2 sessions" in json.loads(twin.stdout)["error"]["message"]
    listed = cli(workspace, "checkpoints", "alpha")
    assert listed.returncode == 0 and listed.stdout == "no checkpoints\n"
    unique = ids[2][: len(ids[2]) - 1]
    assert cli(workspace, "rename", unique, "third").returncode == 0
    assert SessionStore(workspace).info(ids[2]).name == "third"


def test_errors_with_json_are_json_and_exit_codes_are_documented(workspace: Path) -> None:
    missing = cli(workspace, "show", "nosuch", "--json")
    assert missing.returncode == 1 and missing.stderr == ""
    assert json.loads(missing.stdout)["error"] == {
        "kind": "not_found",
        "message": "no session nosuch; `agent-ls sessions list` shows the ids",
    }
    plain = cli(workspace, "delete", "nosuch")
    assert plain.returncode == 1 and plain.stdout == ""
    assert "no session nosuch" in plain.stderr
    no_traceback(plain)
    usage = cli(workspace, "list", "--limit", "x", "--json")
    assert usage.returncode == 2 and json.loads(usage.stdout)["error"]["kind"] == "usage"
    helped = cli(workspace, "list", "--help")
    assert "exit status:" in helped.stdout and "3    restore left some files" in helped.stdout


def test_a_closed_pipe_ends_quietly(workspace: Path) -> None:
    store = SessionStore(workspace)
    for n in range(300):
        store.create(name=f"session number {n} " + "x" * 200)
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_ls", "sessions", "list", "--all", "--json"],
        cwd=workspace,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()


def test_sqlite_trouble_is_a_sentence(workspace: Path) -> None:
    store = SessionStore(workspace)
    sid = store.create(name="kept").session_id
    index = store.dir / INDEX
    store.close()
    index.unlink()
    index.mkdir()  # the index cannot be opened at all
    listed = cli(workspace, "list", "--json")
    no_traceback(listed)
    assert listed.returncode == 1
    assert json.loads(listed.stdout)["error"]["kind"] in ("index", "os")
    plain = cli(workspace, "show", sid)
    no_traceback(plain)
    assert plain.returncode == 1 and "index.sqlite" in plain.stderr


def test_show_prints_tool_calls_and_results(workspace: Path) -> None:
    store = SessionStore(workspace)
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append({"type": "message", "role": "user", "content": "run the tests"})
        call = {"type": "tool_use", "id": "t1", "name": "run_command", "input": {"command": "make"}}
        w.append({"type": "message", "role": "assistant", "content": [call]})
        result = {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [{"type": "text", "text": "\n".join(f"line {n}" for n in range(20))}],
        }
        w.append({"type": "message", "role": "user", "content": [result]})
    store.close()
    out = cli(workspace, "show", sid).stdout
    assert "assistant: → run_command: make" in out
    assert "user: ← result:" in out and "    line 0" in out and "… 12 more lines" in out
    assert "(no text)" not in out


def test_purge_lists_and_asks_and_undelete_brings_back(workspace: Path) -> None:
    store = SessionStore(workspace)
    gone, kept = store.create(name="gone").session_id, store.create(name="kept").session_id
    store.close()
    assert cli(workspace, "delete", "gone").returncode == 0
    assert cli(workspace, "delete", "kept").returncode == 0
    assert cli(workspace, "undelete", kept[:-1]).returncode == 0
    assert {i.session_id for i in SessionStore(workspace).list()[0]} == {kept}
    scripted = cli(workspace, "purge", "--json")  # nobody to ask: --yes is needed
    assert json.loads(scripted.stdout)["error"]["kind"] == "needs_confirmation"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent_ls", "sessions", "purge", "--workspace", str(workspace)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        encoding="utf-8",
        timeout=30,
    )
    child.expect("will be deleted for good")
    child.expect(gone)
    child.expect(r"Delete 1 session\(s\) for good\? \[y/N\] ")
    child.sendline("y")
    child.expect("purged 1 session")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert cli(workspace, "undelete", gone, "--json").returncode == 1
