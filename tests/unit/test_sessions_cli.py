"""`agent-ls sessions …` against a temp store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_ls.cli import sessions as cli_sessions
from agent_ls.sessions import SessionStore


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    ws = tmp_path / "proj"
    ws.mkdir()
    return ws


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_sessions.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def seeded(workspace: Path) -> tuple[str, str, str]:
    store = SessionStore(workspace)
    sid = store.create(name="login bug").session_id
    with store.writer(sid) as w:
        first = w.append({"type": "message", "role": "user", "content": "Fix the login bug"})
        w.append(
            {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}]}
        )
    other = store.create().session_id
    store.close()
    return sid, first["id"], other


def test_list_text_and_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid, _, other = seeded(workspace)
    code, out, _ = run(capsys, "list", "--workspace", str(workspace))
    assert code == 0 and sid in out and "login bug" in out and other in out
    code, out, _ = run(capsys, "list", "--workspace", str(workspace), "--json", "--limit", "1")
    data = json.loads(out)
    assert code == 0 and data["more"] is True and len(data["sessions"]) == 1
    code, out, _ = run(capsys, "list", "--workspace", str(workspace), "--json", "--all")
    assert {s["sessionId"] for s in json.loads(out)["sessions"]} == {sid, other}


def test_list_json_on_a_terminal_is_indented(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(workspace)
    _, piped, _ = run(capsys, "list", "--workspace", str(workspace), "--json")
    monkeypatch.setattr(cli_sessions, "_pretty", lambda: True)
    _, shown, _ = run(capsys, "list", "--workspace", str(workspace), "--json")
    assert "\n  " in shown and "\n" not in piped.rstrip("\n")
    assert json.loads(shown) == json.loads(piped)


def test_list_defaults_to_cwd(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sid, _, _ = seeded(workspace)
    monkeypatch.chdir(workspace)
    assert sid in run(capsys, "list")[1]


def test_show(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid, first, _ = seeded(workspace)
    code, out, _ = run(capsys, "show", sid, "--workspace", str(workspace))
    assert code == 0 and "user: Fix the login bug" in out and f"[{first}]" in out
    code, out, _ = run(capsys, "show", sid, "--workspace", str(workspace), "--json")
    data = json.loads(out)
    assert data["session"]["name"] == "login bug"
    assert [e["type"] for e in data["path"]] == ["session_info", "message", "message"]


def test_rename_fork_delete_purge(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid, first, other = seeded(workspace)
    ws = ["--workspace", str(workspace), "--json"]
    code, out, _ = run(capsys, "rename", sid, "new name", *ws)
    assert code == 0 and json.loads(out)["name"] == "new name"
    code, out, _ = run(capsys, "fork", sid, "--at", first, *ws)
    forked = json.loads(out)
    assert code == 0 and forked["parentSessionId"] == sid
    assert SessionStore(workspace).load(forked["sessionId"]).leaf_id == first
    code, out, _ = run(capsys, "delete", other, *ws)
    assert code == 0 and json.loads(out) == {"deleted": other}
    code, out, _ = run(capsys, "purge", "--yes", *ws)
    assert code == 0 and json.loads(out)["purged"] == 1
    code, out, _ = run(capsys, "list", "--workspace", str(workspace))
    assert other not in out and sid in out


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "NOSUCH"],
        ["show", "../../etc"],
        ["rename", "NOSUCH", "x"],
        ["delete", "NOSUCH"],
        ["fork", "NOSUCH"],
    ],
)
def test_unknown_ids_exit_1_with_a_message(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--workspace", str(workspace))
    assert code == 1 and out == ""
    assert err.startswith("agent-ls sessions: ") and "Traceback" not in err


def test_fork_at_unknown_entry(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid, _, _ = seeded(workspace)
    code, _, err = run(capsys, "fork", sid, "--at", "nope", "--workspace", str(workspace))
    assert code == 1 and "entry not found" in err


def test_busy_session_is_reported(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sid, _, _ = seeded(workspace)
    holder = SessionStore(workspace)
    with holder.writer(sid):
        code, _, err = run(capsys, "rename", sid, "x", "--workspace", str(workspace))
    holder.close()
    assert code == 1 and "busy" in err


def test_empty_workspace(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--workspace", str(workspace))
    assert code == 0 and "no sessions" in out
