"""The sqlite index is only a cache: deleting, corrupting or bypassing it loses nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest

from agent_ls.sessions import SessionStore
from agent_ls.sessions.format import encode, file_name, make_header, new_session_id, now_iso
from tests.unit.conftest import user


def populate(store: SessionStore, n: int = 5) -> list[str]:
    ids = []
    for i in range(n):
        sid = store.create().session_id
        with store.writer(sid) as w:
            w.append(user(f"question {i}"))
            w.append({"type": "message", "role": "assistant", "content": "answer"})
        if i % 2:
            store.rename(sid, f"name {i}")
        ids.append(sid)
    return ids


def snapshot(store: SessionStore) -> list[dict]:
    return [s.to_json() for s in store.list(limit=None)[0]]


def test_deleting_the_index_loses_nothing(store: SessionStore) -> None:
    populate(store)
    before = snapshot(store)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.dir / 'index.sqlite'}{suffix}").unlink(missing_ok=True)
    fresh = SessionStore(store.workspace)
    assert snapshot(fresh) == before
    assert before[0]["messageCount"] == 2
    assert {s.get("name") for s in before} == {None, "name 1", "name 3"}
    fresh.close()


def test_corrupt_index_is_rebuilt(store: SessionStore, caplog: pytest.LogCaptureFixture) -> None:
    populate(store)
    before = snapshot(store)
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.dir / 'index.sqlite'}{suffix}").unlink(missing_ok=True)
    (store.dir / "index.sqlite").write_bytes(b"this is not a database" * 100)
    fresh = SessionStore(store.workspace)
    with caplog.at_level(logging.WARNING):
        assert snapshot(fresh) == before
    assert "rebuilding" in caplog.text
    fresh.close()


def test_unknown_file_is_listed(store: SessionStore, tmp_path: Path) -> None:
    populate(store, 2)
    other = SessionStore(tmp_path, root=tmp_path / "elsewhere")
    sid = other.create(name="copied in").session_id
    with other.writer(sid) as w:
        w.append(user("from somewhere else"))
    source = other.info(sid).path
    other.close()
    assert len(store.list()[0]) == 2
    shutil.copy(source, store.sessions_dir / source.name)
    listed = {s.session_id: s for s in store.list()[0]}
    assert listed[sid].name == "copied in"
    assert listed[sid].first_message == "from somewhere else"
    assert store.load(sid).path()[-1]["role"] == "user"


def test_external_append_is_read_from_the_tail(store: SessionStore) -> None:
    sid = populate(store, 1)[0]
    path = store.info(sid).path
    last = json.loads(path.read_bytes().splitlines()[-1])
    with open(path, "ab") as f:
        f.write(
            encode(
                {"type": "message", "id": "ext1", "parentId": last["id"], "ts": now_iso()}
                | {"role": "user", "content": "x"}
            )
        )
    assert store.list()[0][0].message_count == 3


def test_other_store_instance_sees_appends(store: SessionStore) -> None:
    sid = store.create().session_id
    assert store.list()[0][0].message_count == 0
    other = SessionStore(store.workspace)
    with other.writer(sid) as w:
        w.append(user("from the other window"))
    info = store.list()[0][0]
    assert info.message_count == 1 and info.first_message == "from the other window"
    other.close()


def test_foreign_key_order_is_parsed(store: SessionStore) -> None:
    sid = new_session_id()
    created = now_iso()
    lines = [
        make_header(sid, "/somewhere", created),
        {"id": "a", "type": "message", "role": "user", "content": "hello", "parentId": None},
        {"role": "assistant", "type": "message", "id": "b", "parentId": "a", "content": "hi"},
        {"name": "foreign", "type": "session_info", "id": "c", "parentId": "b"},
    ]
    store.create()
    path = store.sessions_dir / file_name(created, sid)
    path.write_bytes(b"".join(json.dumps(x).encode() + b"\n" for x in lines))
    info = store.info(sid)
    assert (info.message_count, info.first_message, info.name) == (2, "hello", "foreign")


def test_file_replaced_by_a_shorter_one_is_rescanned(store: SessionStore) -> None:
    sid = populate(store, 1)[0]
    path = store.info(sid).path
    header = path.read_bytes().splitlines(keepends=True)[0]
    path.write_bytes(header)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    info = store.list()[0][0]
    assert info.message_count == 0 and info.first_message == ""


def test_deleted_file_leaves_the_list(store: SessionStore) -> None:
    ids = populate(store, 3)
    store.info(ids[0]).path.unlink()
    assert {s.session_id for s in store.list()[0]} == set(ids[1:])


def test_list_on_a_fresh_workspace_creates_nothing(tmp_path: Path) -> None:
    s = SessionStore(tmp_path, root=tmp_path / "root")
    assert s.list() == ([], None)
    assert s.most_recent() is None
    assert not (tmp_path / "root").exists()


def test_in_place_edits_by_other_programs_show_after_the_rescan_delay(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_ls.sessions import index

    sid = populate(store, 1)[0]
    path = store.info(sid).path
    monkeypatch.setattr(index, "RACY_NS", 0)
    assert store.list()[0][0].message_count == 2
    last = json.loads(path.read_bytes().splitlines()[-1])
    with open(path, "ab") as f:
        f.write(encode({"type": "message", "id": "e1", "parentId": last["id"], "ts": now_iso()}))
    assert store.list()[0][0].message_count == 2  # within the delay: the cached row
    monkeypatch.setattr(index, "RESCAN_NS", 0)
    assert store.list()[0][0].message_count == 3


def test_an_index_failure_does_not_fail_the_append(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    sid = store.create().session_id
    with store.writer(sid) as w:
        store._index._run = locked  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING):
            w.append(user("kept anyway"))
        del store._index._run
    assert "index not updated" in caplog.text
    assert store.list()[0][0].message_count == 1


# -- a new process's list: no stat of every file while nothing can have changed unseen --------


@pytest.fixture
def full_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full scans (by any store); the sessions made in a test are too recent for the
    racy-mtime guard, so it is off."""
    from agent_ls.sessions import index

    monkeypatch.setattr(index, "RACY_NS", 0)
    calls: list[int] = []
    real = index.SessionIndex._full_refresh

    def counted(self: index.SessionIndex, *args: object) -> None:
        calls.append(1)
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(index.SessionIndex, "_full_refresh", counted)
    return calls


def other_process(store: SessionStore) -> SessionStore:
    """A store with nothing in memory, as a new `agent-ls sessions list` would open."""
    return SessionStore(store.workspace)


def test_a_new_process_trusts_the_last_full_scan(store: SessionStore, full_scans: list) -> None:
    ids = populate(store, 3)
    store.list()
    assert len(full_scans) == 1
    fresh = other_process(store)
    assert [s.session_id for s in fresh.list()[0]] == ids[::-1]
    assert len(full_scans) == 1  # nothing changed since: no stat of every file
    fresh.create()  # a new file changes the folder: the next list scans
    assert len(fresh.list()[0]) == 4 and len(full_scans) == 2
    fresh.close()


def test_an_append_by_another_process_is_in_the_row(store: SessionStore, full_scans: list) -> None:
    sid = populate(store, 1)[0]
    store.list()
    writer_side = other_process(store)
    with writer_side.writer(sid) as w:
        w.append(user("from the other window"))
    fresh = other_process(store)
    assert fresh.list()[0][0].message_count == 3 and len(full_scans) == 1
    writer_side.close()
    fresh.close()


def test_lines_of_an_open_writer_are_seen_even_without_their_row(
    store: SessionStore, full_scans: list
) -> None:
    """A writer that dies between writing a line and updating its row hides nothing: while a
    writer is open its file is checked on every list."""
    sid = populate(store, 1)[0]
    store.list()
    writer = store.writer(sid)
    path = store.info(sid).path
    last = json.loads(path.read_bytes().splitlines()[-1])
    with open(path, "ab") as f:  # the line, and no row update: what a crash leaves
        f.write(encode({"type": "message", "id": "c1", "parentId": last["id"], "ts": now_iso()}))
    fresh = other_process(store)
    assert fresh.list()[0][0].message_count == 3 and len(full_scans) == 1
    writer.close()
    fresh.close()


def test_the_mark_of_a_writer_that_died_is_dropped(store: SessionStore, full_scans: list) -> None:
    import subprocess
    import sys

    sid = populate(store, 1)[0]
    store.list()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    name = store.info(sid).path.name
    db = store._index._conn()
    db.execute("INSERT INTO writing VALUES (?, ?)", (name, int(dead.stdout)))
    fresh = other_process(store)
    assert fresh.list()[0][0].message_count == 2
    assert db.execute("SELECT count(*) FROM writing").fetchone()[0] == 0
    fresh.close()


def test_an_append_the_index_missed_makes_every_process_scan(
    store: SessionStore, full_scans: list
) -> None:
    import sqlite3

    def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    sid = populate(store, 1)[0]
    store.list()
    before = os.stat(store.sessions_dir).st_mtime_ns
    time.sleep(0.01)
    with store.writer(sid) as w:
        store._index._run = locked  # type: ignore[method-assign]
        w.append(user("kept anyway"))
        del store._index._run
    assert os.stat(store.sessions_dir).st_mtime_ns > before  # the folder says "look again"
    fresh = other_process(store)
    assert fresh.list()[0][0].message_count == 3 and len(full_scans) == 2
    fresh.close()


def test_a_full_scan_never_undoes_an_append_made_while_it_read(
    store: SessionStore, full_scans: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_ls.sessions import index

    sid = populate(store, 1)[0]
    path = store.info(sid).path
    last = json.loads(path.read_bytes().splitlines()[-1])
    with open(path, "ab") as f:  # changed in place by another program: the scan reads it
        f.write(encode({"type": "message", "id": "x1", "parentId": last["id"], "ts": now_iso()}))
    writer_side = other_process(store)
    real = index.SessionIndex._scan_one

    def append_meanwhile(self: index.SessionIndex, *args: object) -> object:
        row = real(self, *args)  # type: ignore[arg-type]
        with writer_side.writer(sid) as w:  # another window appends before the scan stores
            w.append(user("while the scan read"))
        return row

    monkeypatch.setattr(index.SessionIndex, "_scan_one", append_meanwhile)
    store.rescan()
    monkeypatch.setattr(index.SessionIndex, "_scan_one", real)
    fresh = other_process(store)
    assert fresh.list()[0][0].message_count == 4  # the window's row, not the scan's older one
    assert len(full_scans) == 2  # the raced scan was not recorded: the next list looked again
    writer_side.close()
    fresh.close()


def test_list_json_is_to_json_encoded(store: SessionStore, tmp_path: Path) -> None:
    ids = populate(store, 4)
    store.rename(ids[0], 'a "quoted" naïve name\n')
    store.set_metadata(ids[1], ["b", "a"], {"ticket": "ABC-1", "owner": "zoë"})
    store.fork(ids[2])

    def encoded(infos: list) -> bytes:
        return b",".join(
            json.dumps(i.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
            for i in infos
        )

    infos, cursor = store.list(limit=3)
    assert store.list_json(limit=3) == (encoded(infos), cursor)
    rest, _ = store.list(cursor=cursor, limit=None)
    assert store.list_json(cursor=cursor, limit=None) == (encoded(rest), None)
    everything, _ = store.list(limit=None)  # newest first, as sqlite joins them
    assert store.list_json(limit=None) == (encoded(everything), None)
    assert store.list_json(limit=None, query="zzz") == (b"", None)


def test_a_moved_store_lists_its_new_paths(store: SessionStore, tmp_path: Path) -> None:
    populate(store, 2)
    store.list()
    store.close()
    moved = tmp_path / "moved-root"
    shutil.copytree(store.root, moved)
    there = SessionStore(store.workspace, root=moved)
    listed = json.loads(b"[" + there.list_json()[0] + b"]")
    paths = [item["path"] for item in listed]
    assert paths and all(p.startswith(str(there.sessions_dir) + os.sep) for p in paths)
    assert listed == [i.to_json() for i in there.list()[0]]
    there.close()


def test_closing_a_writer_never_waits_for_another_process_writing(store: SessionStore) -> None:
    """A turn's writer closes on the server's event loop: it does not wait the busy timeout
    for another process's write; its mark stays until a later close."""
    import sqlite3

    from agent_ls.sessions.index import BUSY_TIMEOUT_MS

    sid = populate(store, 1)[0]
    writer = store.writer(sid)
    writer.append(user("one more"))
    other = sqlite3.connect(store.dir / "index.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < BUSY_TIMEOUT_MS / 2000
    assert other.execute("SELECT count(*) FROM writing").fetchone()[0] == 1
    other.execute("ROLLBACK")
    store.writer(sid).close()
    assert other.execute("SELECT count(*) FROM writing").fetchone()[0] == 0
    assert store.list()[0][0].message_count == 3
    other.close()
