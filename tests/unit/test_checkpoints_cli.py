"""`agent-ls sessions checkpoints` and `agent-ls sessions restore`, parsed and run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from agent_ls.checkpoints import BlobStore, TurnRecorder, checkpoint_entry
from agent_ls.cli import checkpoints as cli_checkpoints
from agent_ls.sessions import SessionStore


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    root = (tmp_path / "proj").resolve()
    root.mkdir()
    (root / "a.txt").write_bytes(b"v0")
    store = SessionStore(root)
    blobs = BlobStore(store.dir / "blobs")
    sid = store.create().session_id
    with store.writer(sid) as writer:
        writer.append({"type": "message", "role": "user", "content": "change a"})
        recorder = TurnRecorder(blobs, [root])
        recorder.before_change(root / "a.txt")
        (root / "a.txt").write_bytes(b"v1")
        cp = writer.append(checkpoint_entry("t1", recorder.finish()))["id"]
    store.close()
    return root, sid, cp


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_checkpoints.add_parsers(parser.add_subparsers())
    return cli_checkpoints.run(parser.parse_args(argv))


def test_checkpoints_lists_as_text_and_json(project, capsys):
    root, sid, cp = project
    assert run("checkpoints", sid, "--workspace", str(root)) == 0
    out = capsys.readouterr().out
    assert cp in out and "change a" in out and "modified" in out
    assert run("checkpoints", sid, "--workspace", str(root), "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["checkpointId"] == cp and listed["files"][0]["operation"] == "modified"


def test_restore_dry_run_then_restore_then_undo(project, capsys):
    root, sid, cp = project
    assert run("restore", cp, "--workspace", str(root), "--dry-run", "--json") == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["dryRun"] and not planned["applied"]
    assert planned["files"][0]["result"] == "restored"
    assert (root / "a.txt").read_bytes() == b"v1"

    assert run("restore", cp, "--workspace", str(root), "--json") == 0
    done = json.loads(capsys.readouterr().out)
    assert done["applied"] and (root / "a.txt").read_bytes() == b"v0"

    undo = f"{sid}:{done['undoCheckpointId']}"
    assert run("restore", undo, "--workspace", str(root)) == 0
    assert "reverted" in capsys.readouterr().out
    assert (root / "a.txt").read_bytes() == b"v1"


def test_conflicts_exit_3_and_force_overrides(project, capsys):
    root, _, cp = project
    (root / "a.txt").write_bytes(b"mine")
    assert run("restore", cp, "--workspace", str(root)) == 3
    out = capsys.readouterr().out
    assert "conflict" in out and "nothing was changed" in out and "--partial" in out
    assert (root / "a.txt").read_bytes() == b"mine"
    assert run("restore", cp, "--workspace", str(root), "--partial", "--json") == 3
    skipped = json.loads(capsys.readouterr().out)
    assert skipped["files"][0]["result"] == "skipped" and not skipped["applied"]  # nothing to write
    assert (root / "a.txt").read_bytes() == b"mine"
    assert run("restore", cp, "--workspace", str(root), "--force") == 0
    assert (root / "a.txt").read_bytes() == b"v0"


def test_unknown_checkpoint_and_busy_session_are_errors(project, capsys):
    root, sid, cp = project
    assert run("restore", "nope", "--workspace", str(root)) == 1
    assert "not found" in capsys.readouterr().err
    store = SessionStore(root)
    with store.writer(sid):
        assert run("restore", cp, "--workspace", str(root)) == 1
    assert "busy" in capsys.readouterr().err
    store.close()


def test_restore_from_another_process(project, tmp_path):
    root, sid, cp = project
    env = {**os.environ, "AGENT_LS_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "agent_ls", "sessions", "restore", f"{sid}:{cp}"]
    done = subprocess.run(
        [*command, "--workspace", str(root), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["result"] == "restored"
    assert (root / "a.txt").read_bytes() == b"v0"
