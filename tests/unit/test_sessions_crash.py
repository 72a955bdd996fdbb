"""Crash safety: torn tails, corrupt headers, garbage lines, permissions, two processes."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent_ls.sessions import SessionBusy, SessionNotFound, SessionStore
from tests.unit.conftest import user


def test_torn_tail_is_skipped_then_repaired(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    info = store.create()
    sid = info.session_id
    with store.writer(sid) as w:
        a = w.append(user("kept"))
    with open(info.path, "ab") as f:
        f.write(b'{"type":"message","id":"torn","parentId":"')
    session = store.load(sid)
    assert list(session.entries) == [a["id"]]
    assert session.leaf_id == a["id"]
    assert store.list()[0][0].message_count == 1
    assert store.load(sid).history()[0][-1]["id"] == a["id"]
    with caplog.at_level(logging.WARNING), store.writer(sid) as w:
        b = w.append(user("after the crash"))
    assert "torn" in caplog.text
    lines = info.path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    parsed = [json.loads(line) for line in lines[:-1]]
    assert [e["id"] for e in parsed[1:]] == [a["id"], b["id"]]
    assert b["parentId"] == a["id"]
    assert store.info(sid).message_count == 2


def test_torn_header_only_file_is_moved_aside(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    info = store.create()
    info.path.write_bytes(b'{"type":"session","ver')
    with caplog.at_level(logging.WARNING):
        assert store.list()[0] == []
    corrupt = store.corrupt_dir / info.path.name
    assert corrupt.read_bytes() == b'{"type":"session","ver'
    assert "moved" in caplog.text
    with pytest.raises(SessionNotFound):
        store.info(info.session_id)


def test_corrupt_header_is_moved_aside_never_truncated(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = store.create().session_id
    bad = store.create()
    with store.writer(bad.session_id) as w:
        w.append(user("precious"))
    content = bad.path.read_bytes()
    broken = b"NOT JSON" + content[content.index(b"\n") :]
    bad.path.write_bytes(broken)
    with caplog.at_level(logging.WARNING):
        listed = [s.session_id for s in store.list()[0]]
    assert listed == [good]
    assert (store.corrupt_dir / bad.path.name).read_bytes() == broken
    assert not bad.path.exists()


def test_corrupt_header_found_by_load(store: SessionStore) -> None:
    info = store.create()
    info.path.write_bytes(b'{"type":"other","id":"x"}\n')
    with pytest.raises(SessionNotFound):
        store.load(info.session_id)
    assert (store.corrupt_dir / info.path.name).exists()


def test_header_id_must_match_file_name(store: SessionStore) -> None:
    info = store.create()
    other = store.create()
    info.path.write_bytes(other.path.read_bytes())
    os.utime(info.path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert [s.session_id for s in store.list()[0]] == [other.session_id]
    assert (store.corrupt_dir / info.path.name).exists()


def test_garbage_line_mid_file_is_skipped(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    info = store.create()
    with store.writer(info.session_id) as w:
        a = w.append(user("one"))
    with open(info.path, "ab") as f:
        f.write(b"\x00\x01 garbage {{{\n[1,2]\n")
    with store.writer(info.session_id) as w:
        b = w.append(user("two"))
    with caplog.at_level(logging.WARNING):
        session = SessionStore(store.workspace).load(info.session_id)
        assert [e["id"] for e in session.path()] == [a["id"], b["id"]]
    assert "skipping" in caplog.text
    assert store.info(info.session_id).message_count == 2


def test_permissions(store: SessionStore) -> None:
    info = store.create()
    with store.writer(info.session_id) as w:
        w.append(user("x"))
        w.sync()
    store.fork(info.session_id)
    store.delete(store.create().session_id)
    for path in [store.root, *store.root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif not path.name.startswith("index.sqlite-"):
            assert mode == 0o600, path


def test_permissions_ignore_a_loose_umask(store: SessionStore) -> None:
    old = os.umask(0)
    try:
        info = store.create()
    finally:
        os.umask(old)
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.sessions_dir.stat().st_mode) == 0o700


HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from agent_ls.sessions import SessionStore
    store = SessionStore(Path(sys.argv[1]))
    with store.writer(sys.argv[2]) as w:
        w.append({"type": "message", "role": "user", "content": "from the holder"})
        Path(sys.argv[3]).write_text(str(os.getpid()))
        time.sleep(float(sys.argv[4]))
    """
)

APPENDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agent_ls.sessions import SessionBusy, SessionStore
    store = SessionStore(Path(sys.argv[1]))
    written = busy = 0
    while written < int(sys.argv[3]):
        try:
            with store.writer(sys.argv[2]) as w:
                for _ in range(5):
                    w.append({"type": "message", "role": "user", "content": sys.argv[4] * 300})
                    written += 1
        except SessionBusy:
            busy += 1
            time.sleep(0.001)
    print(busy)
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_other_process_holding_the_lock_makes_us_busy(store: SessionStore, tmp_path: Path) -> None:
    sid = store.create().session_id
    ready = tmp_path / "ready"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.workspace), sid, str(ready), "1.5"], env=_env()
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() or not ready.read_text():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.02)
        with pytest.raises(SessionBusy) as caught:
            store.writer(sid)
        assert caught.value.owner_pid == int(ready.read_text())
        assert store.list()[0][0].message_count == 1  # readers see the other's appends
    finally:
        assert holder.wait(timeout=30) == 0
    with store.writer(sid) as w:
        assert w.session.leaf_id is not None  # reloaded: sees the holder's entry
        w.append(user("mine"))
    assert store.info(sid).message_count == 2


def test_two_processes_appending_never_interleave(store: SessionStore) -> None:
    sid = store.create().session_id
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(store.workspace), sid, "200", letter],
            env=_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for letter in "ab"
    ]
    outputs = [p.communicate(timeout=90)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(out.strip().isdigit() for out in outputs)
    lines = store.info(sid).path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    entries = [json.loads(line) for line in lines[1:-1]]
    assert len(entries) == 400
    assert {e["content"][0] for e in entries} == {"a", "b"}
    assert all(len(e["content"]) == 300 and len(set(e["content"])) == 1 for e in entries)
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == 400
    assert all(e["parentId"] == prev for e, prev in zip(entries, [None, *ids[:-1]], strict=True))
    assert store.info(sid).message_count == 400
    assert len(store.load(sid).path()) == 400


def test_parse_lines_falls_back_line_by_line(caplog: pytest.LogCaptureFixture) -> None:
    from agent_ls.sessions.format import parse_lines

    good = b'{"type":"message","id":"a","role":"user","content":[{"type":"text","text":"x"}]}'
    data = b"\n".join([good, b"", b"1,2", b'{"id":"b"}', b'"str"', b"{bad"]) + b"\n"
    with caplog.at_level(logging.WARNING):
        assert [e["id"] for e in parse_lines(data, "f")] == ["a", "b"]
    assert caplog.text.count("skipping") == 3


def test_hostile_lines_and_headers(store: SessionStore, caplog: pytest.LogCaptureFixture) -> None:
    info = store.create()
    with store.writer(info.session_id) as w:
        a = w.append(user("fine"))
    deep = b'{"type":"message","id":"d1","parentId":null,"role":"user","content":'
    deep += b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    with open(info.path, "ab") as f:
        f.write(deep + b'{"type":"message","role":"user","id":"u1","content":"\xff"}\n')
    deep_header = store.sessions_dir / "2026-01-01T00-00-00-000Z_DEEPHEADER.jsonl"
    deep_header.write_bytes(b'{"type":"session","id":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    with caplog.at_level(logging.WARNING):
        listed = store.list()[0]
        assert [s.session_id for s in listed] == [info.session_id]
        assert list(store.load(info.session_id).entries) == [a["id"]]
    assert (store.corrupt_dir / deep_header.name).exists()
    with store.writer(info.session_id) as w:
        assert w.append(user("still works"))["parentId"] == a["id"]


def test_hostile_cursor(store: SessionStore) -> None:
    import base64

    from agent_ls.sessions import InvalidCursor

    cursor = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    with pytest.raises(InvalidCursor):
        store.list(cursor=cursor)
