"""Hostile things in a store: FIFOs, directories and loops named like sessions, names that are
not UTF-8, a last line without its newline, a locked index, odd environments (issue 11)."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_ls.sessions import SessionStore, StoreError
from agent_ls.sessions.errors import NoStoreRoot, NotRegularFile
from agent_ls.sessions.layout import store_root
from tests.unit.conftest import user

BAD_NAME = "2026-01-01T00-00-00-000Z_BADENTRY.jsonl"


def finishes(work: Callable[[], Any], unblock: Path | None = None, seconds: float = 10) -> Any:
    """Run ``work`` in a thread and fail (instead of hanging) if it does not return in time.

    ``unblock`` is a FIFO to open for writing afterwards, which frees a reader stuck on it.
    """
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if unblock is not None:
            fd = os.open(unblock, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        pytest.fail(f"{work} blocked for {seconds} s")
    if "error" in out:
        raise out["error"]
    return out.get("value")


def seeded(store: SessionStore) -> str:
    sid = store.create(name="good").session_id
    with store.writer(sid) as w:
        w.append(user("hello"))
    return sid


def no_transaction_left(store: SessionStore) -> None:
    """Another connection gets the write lock at once: nothing of ours is still open."""
    other = sqlite3.connect(store.dir / "index.sqlite", timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
    db = store._index._db
    assert db is None or not db.in_transaction


# -- finding 2: a FIFO named like a session ----------------------------------------------------


def test_a_fifo_named_like_a_session_never_blocks(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    sid = seeded(store)
    fifo = store.sessions_dir / "2026-01-01T00-00-00-000Z_FIFO.jsonl"
    os.mkfifo(fifo)
    with caplog.at_level(logging.WARNING):
        page, _ = finishes(lambda: store.list(), fifo)
    assert [i.session_id for i in page] == [sid]
    assert "a FIFO" in caplog.text and fifo.name in caplog.text
    assert "a FIFO" in store._index.skipped[fifo.name]
    finishes(store.fingerprint, fifo)
    for action in (store.info, store.load, store.writer):
        with pytest.raises(NotRegularFile, match=r"is a FIFO \(named pipe\), not a session file"):
            finishes(lambda action=action: action("FIFO"), fifo)  # type: ignore[misc]
    assert finishes(store.trashed, fifo) == []
    no_transaction_left(store)


def test_a_socket_named_like_a_session_is_skipped(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = seeded(store)
    monkeypatch.chdir(store.sessions_dir)  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("2026-01-01T00-00-00-000Z_SOCK.jsonl")
        assert [i.session_id for i in finishes(store.list)[0]] == [sid]
        with pytest.raises(NotRegularFile, match="a socket"):
            store.load("SOCK")


# -- finding 4: text that is not UTF-8 -----------------------------------------------------------


def test_a_name_that_is_not_utf8_round_trips(store: SessionStore, tmp_path: Path) -> None:
    raw = b"caf\xe9 \xff.txt"
    (tmp_path / "proj" / os.fsdecode(raw)).write_text("x")
    listed = os.listdir(tmp_path / "proj")[0]  # surrogate-escaped, as a tool sees it
    assert listed == os.fsdecode(raw) and not listed.isascii()
    sid = store.create().session_id
    with store.writer(sid) as w:
        first = w.append(user(f"look at {listed}"))
        result = w.append(
            {
                "type": "message",
                "role": "tool_result",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": listed}],
            }
        )
        w.append({"type": "session_info", "name": listed})
    lines = store.info(sid).path.read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)  # every line is valid UTF-8 JSON
    session = store.load(sid)
    assert session.get(result["id"])["content"][0]["content"] == listed  # exact round trip
    assert session.get(first["id"])["content"][0]["text"] == f"look at {listed}"
    info = store.info(sid)
    assert info.name == "caf\\xe9 \\xff.txt"  # readable in the list
    assert info.first_message == "look at caf\\xe9 \\xff.txt"
    json.dumps(info.to_json()).encode("utf-8")


def test_a_workspace_folder_whose_name_is_not_utf8(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / os.fsdecode(b"proj-\xfe")
    folder.mkdir()
    store = SessionStore(folder)
    try:
        sid = store.create(name="n").session_id
        with store.writer(sid) as w:
            w.append(user("hi"))
        (info,), _ = store.list()
        assert info.session_id == sid and info.workspace.endswith("proj-\\xfe")
        assert store.load(sid).header["cwd"] == str(folder)
    finally:
        store.close()


# -- finding 6: one bad entry must not break the workspace ---------------------------------------


@pytest.mark.parametrize("kind", ["directory", "symlink loop", "dangling symlink"])
def test_a_bad_entry_is_skipped_and_reported(
    store: SessionStore, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    sid = seeded(store)
    bad = store.sessions_dir / BAD_NAME
    if kind == "directory":
        bad.mkdir()
    elif kind == "symlink loop":
        bad.symlink_to(bad.name)
    else:
        bad.symlink_to("nowhere.jsonl")
    with caplog.at_level(logging.WARNING):
        page, _ = store.list()
        store._index.refresh(store._move_aside, full=True)
    assert [i.session_id for i in page] == [sid]
    if kind != "dangling symlink":  # a dangling link is a file that is gone: nothing to say
        assert BAD_NAME in caplog.text and BAD_NAME in store._index.skipped
        assert caplog.text.count(BAD_NAME) == 1  # reported once, not on every list
    no_transaction_left(store)
    with pytest.raises((StoreError, OSError)):
        store.load("BADENTRY")
    no_transaction_left(store)
    other = store.create()  # the workspace still works
    assert {i.session_id for i in store.list()[0]} == {sid, other.session_id}


def test_a_file_that_cannot_be_read_is_skipped(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Root reads any 0600 file, so the failure is made where the read happens: EIO."""
    sid = seeded(store)
    other = store.create().session_id
    real_pread = os.pread
    other_file = store.info(other).path.name

    def pread(fd: int, n: int, offset: int) -> bytes:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(other_file):
            raise OSError(5, "Input/output error")
        return real_pread(fd, n, offset)

    store._index.forget(other_file)
    monkeypatch.setattr(os, "pread", pread)
    with caplog.at_level(logging.WARNING):
        page, _ = store.list()
    assert [i.session_id for i in page] == [sid]
    assert "Input/output error" in caplog.text
    no_transaction_left(store)


def test_a_failure_inside_a_transaction_always_closes_it(store: SessionStore) -> None:
    seeded(store)

    def boom(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM sessions")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store._index._run(boom)
    no_transaction_left(store)
    assert len(store.list()[0]) == 1  # rolled back


def test_new_and_list_answer_while_another_process_holds_the_index(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    sid = seeded(store)
    store.list()
    other = sqlite3.connect(store.dir / "index.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a stuck process would
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            info = store.create(name="second window")
        assert info.name == "second window" and info.path.exists()
        assert time.monotonic() - started < 3
        assert {i.session_id for i in store.list()[0]} >= {sid}
    finally:
        other.execute("ROLLBACK")
        other.close()
    store._index.refresh(store._move_aside, full=True)
    assert {i.session_id for i in store.list()[0]} == {sid, info.session_id}


def _cli(home: Path, workspace: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_LS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "agent_ls", "sessions", *argv, "--workspace", str(workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_lists_past_a_bad_entry_and_fails_in_one_sentence(
    store: SessionStore, home: Path
) -> None:
    sid = seeded(store)
    (store.sessions_dir / BAD_NAME).mkdir()
    os.mkfifo(store.sessions_dir / "2026-01-01T00-00-00-000Z_FIFO.jsonl")
    listed = _cli(home, store.workspace, "list")
    assert listed.returncode == 0 and sid in listed.stdout
    shown = _cli(home, store.workspace, "show", "BADENTRY")
    assert shown.returncode == 1 and shown.stdout == ""
    assert shown.stderr.count("\n") == 1 and "Traceback" not in shown.stderr
    assert "a directory, not a session file" in shown.stderr
    checkpoints = _cli(home, store.workspace, "checkpoints", "FIFO")
    assert checkpoints.returncode == 1 and "a FIFO" in checkpoints.stderr
    assert checkpoints.stderr.count("\n") == 1 and "Traceback" not in checkpoints.stderr


def test_cli_sqlite_failure_is_a_sentence(store: SessionStore, home: Path) -> None:
    seeded(store)
    store.close()
    index = store.dir / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.mkdir()  # sqlite cannot open it, and it cannot be deleted to rebuild
    for argv in (["list"], ["checkpoints", "NOSUCH"]):
        done = _cli(home, store.workspace, *argv)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "sqlite3" not in done.stderr and "Errno" not in done.stderr


# -- finding 15: a last line missing only its newline; where the store lives -------------------


def test_a_complete_last_line_without_newline_is_kept(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    sid = store.create().session_id
    path = store.info(sid).path
    with store.writer(sid) as w:
        first = w.append(user("one"))
        second = w.append(user("two"))
    data = path.read_bytes()
    path.write_bytes(data[:-1])  # only the final newline is missing
    session = store.load(sid)
    assert session.leaf_id == second["id"] and list(session.entries) == [first["id"], second["id"]]
    assert store.info(sid).message_count == 2
    store._index.forget(path.name)
    assert store.list()[0][0].message_count == 2  # a full scan counts it too
    with caplog.at_level(logging.WARNING), store.writer(sid) as w:
        third = w.append(user("three"))
    assert third["parentId"] == second["id"]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and [json.loads(x)["id"] for x in lines[1:-1]] == [
        first["id"],
        second["id"],
        third["id"],
    ]
    assert "newline" in caplog.text
    assert store.info(sid).message_count == 3


def test_a_header_without_newline_is_kept(store: SessionStore) -> None:
    sid = store.create().session_id
    path = store.info(sid).path
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    store._index.forget(path.name)
    assert [i.session_id for i in store.list()[0]] == [sid]
    with store.writer(sid) as w:
        entry = w.append(user("after"))
    lines = path.read_bytes().split(b"\n")
    assert json.loads(lines[1])["id"] == entry["id"] and lines[-1] == b""


@pytest.fixture
def no_overrides(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("AGENT_LS_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    yield monkeypatch


def test_a_relative_xdg_data_home_is_ignored(
    no_overrides: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_overrides.setenv("HOME", str(tmp_path))
    no_overrides.setenv("XDG_DATA_HOME", "relative/data")
    assert store_root() == tmp_path / ".local" / "share" / "agent-ls"
    no_overrides.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store_root() == tmp_path / "xdg" / "agent-ls"


def test_without_home_the_store_is_this_users_or_refused(
    no_overrides: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pwd

    no_overrides.delenv("HOME", raising=False)
    mine = tmp_path / "mine"
    mine.mkdir()
    entry = pwd.struct_passwd(("u", "x", os.getuid(), 0, "", str(mine), "/bin/sh"))
    no_overrides.setattr(pwd, "getpwuid", lambda uid: entry)
    assert store_root() == mine / ".local" / "share" / "agent-ls"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, os.getuid() + 1, -1)
    entry = pwd.struct_passwd(("u", "x", os.getuid(), 0, "", str(theirs), "/bin/sh"))
    with pytest.raises(NoStoreRoot, match="belongs to another user; set HOME"):
        store_root()

    def unknown(uid: int) -> Any:
        raise KeyError(uid)

    no_overrides.setattr(pwd, "getpwuid", unknown)
    with pytest.raises(NoStoreRoot, match="has no home directory"):
        store_root()


def test_cli_without_any_home_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "AGENT_LS_HOME")}
    env["XDG_DATA_HOME"] = "relative"
    script = (
        "import os, pwd, sys; pwd.getpwuid = lambda uid: (_ for _ in ()).throw(KeyError(uid));"
        "from agent_ls.cli import main; sys.exit(main(['sessions', 'list']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "set HOME, AGENT_LS_HOME or XDG_DATA_HOME" in done.stderr
    assert not (tmp_path / "~").exists()
