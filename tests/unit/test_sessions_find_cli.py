"""`agent-ls sessions search|new|reset|tag|trash|gc|stats` against a temp store."""

from __future__ import annotations

import json
import os
import time
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


def test_new_with_an_id_tag_and_search(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = ("--workspace", str(workspace))
    code, out, _ = run(capsys, "new", "--id", "fix-login", "--name", "login", *ws)
    assert code == 0 and "fix-login" in out
    code, out, _ = run(capsys, "new", "--id", "fix-login", *ws, "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "exists"
    code, _, err = run(capsys, "new", "--id", "../x", *ws)
    assert code == 1 and "starting with a letter or digit" in err
    store = SessionStore(workspace)
    with store.writer("fix-login") as w:
        text = "the login form loses its 🎉 state"
        w.append({"type": "message", "role": "user", "content": text})
    store.close()
    code, out, _ = run(capsys, "tag", "fix-login", "bug", "ui", *ws)
    assert code == 0 and "bug, ui" in out
    code, out, _ = run(capsys, "tag", "fix-login", "ui", "--remove", *ws, "--json")
    assert json.loads(out)["tags"] == ["bug"]
    code, out, _ = run(capsys, "search", "form", *ws)
    assert code == 0 and "fix-login" in out and "the login [form] loses" in out
    code, out, _ = run(capsys, "search", "state", *ws, "--json")
    (hit,) = json.loads(out)["hits"]
    assert hit["snippet"][hit["highlights"][0][0] - 1 : hit["highlights"][0][1] - 1] == "state"
    code, out, _ = run(capsys, "search", "nowhere", "--all-workspaces", *ws)
    assert code == 0 and "nothing matches" in out


def test_reset_trash_gc_and_stats(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = ("--workspace", str(workspace))
    run(capsys, "new", "--id", "old", *ws)
    code, out, _ = run(capsys, "reset", "old", *ws)
    assert code == 0 and "new branch" in out
    run(capsys, "delete", "old", *ws)
    code, out, _ = run(capsys, "gc", "--dry-run", *ws)
    assert code == 0 and "retention is off" in out
    store = SessionStore(workspace)
    (store.dir / "settings.json").write_text(json.dumps({"purgeTrashAfterDays": 1}))
    ((info, _),) = store.trash()
    then = time.time() - 2 * 86_400
    os.utime(info.path, (then, then))
    store.close()
    code, out, _ = run(capsys, "gc", *ws, "--json")
    report = json.loads(out)
    assert report["purged"] == [] and report["purgeNextRun"] == ["old"]  # never shown before
    code, out, _ = run(capsys, "gc", "--dry-run", *ws)
    assert "would delete for good: old" in out
    code, out, _ = run(capsys, "trash", *ws)
    assert "old" in out
    code, out, _ = run(capsys, "gc", *ws)
    assert "delete for good: old" in out and "freed" in out
    code, out, _ = run(capsys, "trash", *ws, "--json")
    assert json.loads(out) == {"sessions": []}
    code, out, _ = run(capsys, "stats", *ws, "--json")
    (stats,) = json.loads(out)["workspaces"]
    assert stats["sessions"] == 0 and stats["trashed"] == 0 and stats["totalBytes"] > 0
