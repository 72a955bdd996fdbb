"""The session store under hostile files and large sessions, through the real server (issue 11:
findings 2, 6, 14): nothing in `sessions/` can freeze the server or lock other processes out."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import REPO, server_env
from tests.reliability.stall import raw_stall_probe
from tests.reliability.support import RawServer, raw_server, record, rss_kib

pytestmark = pytest.mark.reliability

SCRIPT_ENV = {"AGENT_LS_PROVIDER": "scripted"}
LARGE_MB = 30


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def result(server: RawServer, method: str, params: dict, timeout: float = 20) -> dict:
    reply = server.call(method, params, timeout)
    assert "result" in reply, reply
    return reply["result"]


def sessions_dir(home: Path) -> Path:
    (found,) = home.glob("workspaces/*/sessions")
    return found


def cli(home: Path, workspace: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_ls", "sessions", *argv, "--workspace", str(workspace)],
        env=server_env(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hostile_entries_in_sessions_dir(tmp_path: Path, workspace: Path) -> None:
    """A FIFO, a directory and a symlink loop named like sessions: the server lists, creates and
    prompts as before, another process reads and writes the same store meanwhile, and the
    unreadable entries are reported (logged), not fatal."""
    home = tmp_path / "home"
    with raw_server(home, workspace, SCRIPT_ENV) as server:
        good = result(server, "agent/session/new", {"name": "good"})["sessionId"]
        directory = sessions_dir(home)
        os.mkfifo(directory / "2026-01-01T00-00-00-000Z_FIFO.jsonl")
        (directory / "2026-01-01T00-00-00-000Z_DIR.jsonl").mkdir()
        (directory / "2026-01-01T00-00-00-000Z_LOOP.jsonl").symlink_to(
            "2026-01-01T00-00-00-000Z_LOOP.jsonl"
        )
        time.sleep(0.2)  # let the store's mtime check see a settled directory
        with raw_stall_probe(server) as probe:
            listed = result(server, "agent/session/list", {"limit": 100})["sessions"]
            assert [s["sessionId"] for s in listed] == [good]
            second = result(server, "agent/session/new", {"name": "second"})["sessionId"]
            answer = result(server, "agent/session/prompt", {"sessionId": good, "prompt": "hi"})
            assert answer["stopReason"] == "end_turn"
            for bad in ("FIFO", "DIR", "LOOP"):
                reply = server.call("agent/session/switch", {"sessionId": bad}, 10)
                assert "error" in reply and "Traceback" not in str(reply), reply
        with raw_stall_probe(server) as beside_cli:
            other = cli(home, workspace, "list", "--json")  # another process, same index
            assert other.returncode == 0, other.stderr
            assert good in other.stdout and second in other.stdout
            renamed = cli(home, workspace, "rename", second, "renamed by the CLI")
            assert renamed.returncode == 0, renamed.stderr
            listed = result(server, "agent/session/list", {"limit": 100})["sessions"]
            assert {s["sessionId"] for s in listed} == {good, second}
        index = sqlite3.connect(next(home.glob("workspaces/*/index.sqlite")), timeout=0)
        index.execute("BEGIN IMMEDIATE")  # nobody holds the index: no transaction left open
        index.execute("ROLLBACK")
        index.close()
    record("store_faults.hostile_entries_longest_stall_ms", round(probe.longest_ms))
    record("store_faults.hostile_entries_cli_beside_longest_stall_ms", round(beside_cli.longest_ms))
    assert probe.longest_ms < 1000, probe  # nothing blocked on the FIFO
    assert beside_cli.longest_ms < 1000, beside_cli


def write_large_session(home: Path, workspace: Path, megabytes: int) -> str:
    """A long session as months of use leave it: big tool results, a compaction now and then."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from bench_large_session import write_big
    finally:
        sys.path.remove(str(REPO / "bench"))
    from agent_ls.sessions.format import file_name
    from agent_ls.sessions.layout import SESSIONS, ensure_dir, workspace_dir

    session_id = "LARGE0000000000000000000001"[:26]
    directory = ensure_dir(workspace_dir(home, workspace) / SESSIONS, below=home)
    write_big(
        directory / file_name("2026-01-01T00:00:00.000Z", session_id),
        session_id,
        str(workspace),
        megabytes,
    )
    return session_id


def test_a_large_session_keeps_the_server_responsive(tmp_path: Path, workspace: Path) -> None:
    """A 30 MB session with compactions, indexed as the server that wrote it would have left
    it: opening it and prompting in it keep every other request answering."""
    from agent_ls.sessions import SessionStore

    home = tmp_path / "home"
    session_id = write_large_session(home, workspace, LARGE_MB)
    store = SessionStore(workspace, root=home)
    started = time.monotonic()
    store.list()  # the index a server that wrote the session keeps
    record("store_faults.large_first_index_s", round(time.monotonic() - started, 2))
    store.close()
    with raw_server(home, workspace, SCRIPT_ENV) as server:
        started = time.monotonic()
        with raw_stall_probe(server) as opening:
            listed = result(server, "agent/session/list", {"limit": 10})["sessions"]
            assert listed[0]["sessionId"] == session_id
            page = result(server, "agent/session/switch", {"sessionId": session_id})
            assert page["items"]
        open_s = time.monotonic() - started
        times = []
        with raw_stall_probe(server) as prompting:
            for n in range(4):
                t0 = time.monotonic()
                answer = result(
                    server, "agent/session/prompt", {"sessionId": session_id, "prompt": f"go {n}"}
                )
                assert answer["stopReason"] == "end_turn"
                times.append(time.monotonic() - t0)
        rss_mb = rss_kib(server.pid) / 1024
    record("store_faults.large_session_mb", LARGE_MB)
    record("store_faults.large_open_s", round(open_s, 2))
    record("store_faults.large_open_longest_stall_ms", round(opening.longest_ms))
    record("store_faults.large_prompt_s", [round(t, 3) for t in times])
    record("store_faults.large_prompt_longest_stall_ms", round(prompting.longest_ms))
    record("store_faults.large_rss_mb", round(rss_mb))
    assert open_s < 5, open_s
    assert max(times[1:]) < 2, times
    assert prompting.longest_ms < 1000, prompting
    assert rss_mb < 250, rss_mb  # a whole parse of the file would take several times its size
