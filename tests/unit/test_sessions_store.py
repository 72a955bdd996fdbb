"""The store's core: create, append, tree, history, rename, delete, fork, listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_ls.sessions import (
    EntryNotFound,
    InvalidCursor,
    InvalidSessionId,
    SessionBusy,
    SessionNotFound,
    SessionStore,
    list_all_workspaces,
)
from agent_ls.sessions.format import SESSION_ID_RE, new_session_id
from tests.unit.conftest import user


def assistant(text: str) -> dict:
    return {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]}


def test_root_follows_agent_ls_home(store: SessionStore, home: Path) -> None:
    assert store.root == home
    info = store.create()
    assert info.path.is_relative_to(home / "workspaces")
    assert info.path.parent.parent.name.startswith("proj-")


def test_ids_are_valid_and_time_sortable() -> None:
    ids = [new_session_id() for _ in range(1000)]
    assert all(SESSION_ID_RE.fullmatch(i) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_create_writes_header_at_once(store: SessionStore) -> None:
    info = store.create()
    lines = info.path.read_text().splitlines()
    assert len(lines) == 1
    header = json.loads(lines[0])
    assert header["type"] == "session" and header["version"] == 1
    assert header["id"] == info.session_id
    assert header["cwd"] == str(store.workspace)
    assert info.path.name.endswith(f"_{info.session_id}.jsonl")
    assert [s.session_id for s in store.list()[0]] == [info.session_id]
    assert info.message_count == 0 and info.first_message == "" and info.name is None


def test_create_with_name(store: SessionStore) -> None:
    info = store.create(name="login bug")
    assert info.name == "login bug"
    assert store.info(info.session_id).name == "login bug"


def test_append_assigns_ids_and_chains_to_leaf(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        a = w.append(user("Fix the login bug"))
        b = w.append(assistant("Done"))
        assert a["parentId"] is None and b["parentId"] == a["id"]
        assert list(a)[:4] == ["type", "id", "parentId", "ts"]
        assert len(a["id"]) == 8 and a["id"] != b["id"]
        assert w.session.leaf_id == b["id"]
        c = w.append({"type": "custom_thing", "x": 1})
    session = store.load(sid)
    assert [e["id"] for e in session.path()] == [a["id"], b["id"], c["id"]]
    assert session.entries[c["id"]]["x"] == 1
    info = store.info(sid)
    assert info.message_count == 2
    assert info.first_message == "Fix the login bug"


def test_explicit_parent_and_bad_parent(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        a = w.append(user("one"))
        w.append(assistant("two"))
        c = w.append(assistant("branch"), parent_id=a["id"])
        assert c["parentId"] == a["id"]
        assert w.session.leaf_id == c["id"]
        with pytest.raises(EntryNotFound):
            w.append(user("x"), parent_id="nope")
        with pytest.raises(ValueError):
            w.append({"type": "leaf"})


def test_rewind_with_leaf_survives_reopen(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        a = w.append(user("one"))
        b = w.append(assistant("two"))
        w.append(user("three"))
        w.set_leaf(b["id"])
        assert w.session.leaf_id == b["id"]
    reopened = SessionStore(store.workspace)
    session = reopened.load(sid)
    assert session.leaf_id == b["id"]
    assert [e["id"] for e in session.path()] == [a["id"], b["id"]]
    with reopened.writer(sid) as w:
        d = w.append(user("four"))
        assert d["parentId"] == b["id"]
        with pytest.raises(EntryNotFound):
            w.set_leaf("missing")
    session = reopened.load(sid)
    assert [e["id"] for e in session.path()] == [a["id"], b["id"], d["id"]]
    assert len(session.entries) == 5
    reopened.close()


def test_rewind_to_empty(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append(user("one"))
        w.set_leaf(None)
        assert w.session.path() == []
        assert w.append(user("again"))["parentId"] is None


def test_history_pages_backwards(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        ids = [w.append(user(f"m{i}"))["id"] for i in range(120)]
    session = store.load(sid)
    page, more = session.history(limit=50)
    assert [e["id"] for e in page] == ids[70:] and more
    page2, more2 = session.history(before=page[0]["id"], limit=50)
    assert [e["id"] for e in page2] == ids[20:70] and more2
    page3, more3 = session.history(before=page2[0]["id"], limit=50)
    assert [e["id"] for e in page3] == ids[:20] and not more3
    with pytest.raises(EntryNotFound):
        session.history(before="zzzzzzzz")


def test_history_of_large_session_reads_only_the_tail(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        ids = [w.append(user("x" * 500))["id"] for i in range(2000)]
    session = store.load(sid)
    page, more = session.history(limit=10)
    assert [e["id"] for e in page] == ids[-10:] and more
    assert not session.complete
    assert [e["id"] for e in session.path()] == ids


def test_history_after_rewind_far_back(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        ids = [w.append(user("y" * 300))["id"] for i in range(1000)]
        w.set_leaf(ids[5])
    page, more = store.load(sid).history(limit=50)
    assert [e["id"] for e in page] == ids[:6] and not more


def test_rename(store: SessionStore) -> None:
    sid = store.create().session_id
    assert store.rename(sid, "first name").name == "first name"
    assert store.rename(sid, "second").name == "second"
    assert SessionStore(store.workspace).info(sid).name == "second"


def test_rename_uses_own_open_writer(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append(user("hi"))
        assert store.rename(sid, "named").name == "named"
        assert w.session.leaf_id is not None
        assert w.append(assistant("still writing"))["parentId"] is not None


def test_second_writer_is_busy_in_same_process(store: SessionStore) -> None:
    import os

    sid = store.create().session_id
    with store.writer(sid):
        with pytest.raises(SessionBusy) as caught:
            store.writer(sid)
        assert caught.value.owner_pid == os.getpid()
        other = SessionStore(store.workspace)
        with pytest.raises(SessionBusy):
            other.writer(sid)
        with pytest.raises(SessionBusy):
            other.rename(sid, "x")
    with store.writer(sid):
        pass


def test_unknown_and_invalid_ids(store: SessionStore) -> None:
    for bad in ["../x", "a/b", "", "x" * 129, "..", "a b", 3]:
        with pytest.raises(InvalidSessionId):
            store.info(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidSessionId):
            store.load(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidSessionId):
            store.writer(bad)  # type: ignore[arg-type]
    with pytest.raises(SessionNotFound):
        store.info("nothere")
    with pytest.raises(SessionNotFound):
        store.delete("nothere")
    with pytest.raises(SessionNotFound):
        store.fork("nothere")


def test_delete_moves_to_trash_restore_and_purge(store: SessionStore) -> None:
    keep = store.create(name="keep").session_id
    gone = store.create(name="gone").session_id
    store.delete(gone)
    assert [s.session_id for s in store.list()[0]] == [keep]
    with pytest.raises(SessionNotFound):
        store.info(gone)
    assert [s.session_id for s in store.trashed()] == [gone]
    store.restore(gone)
    assert {s.session_id for s in store.list()[0]} == {keep, gone}
    store.delete(gone)
    assert store.purge() == 1
    assert store.trashed() == []
    assert store.purge() == 0


def test_delete_closes_own_writer_but_not_others(store: SessionStore) -> None:
    sid = store.create().session_id
    w = store.writer(sid)
    store.delete(sid)
    assert w.closed
    other_sid = store.create().session_id
    other = SessionStore(store.workspace)
    with other.writer(other_sid), pytest.raises(SessionBusy):
        store.delete(other_sid)
    other.close()


def test_fork_copies_the_path(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        a = w.append(user("one"))
        b = w.append(assistant("two"))
        w.append(user("three"))
    forked = store.fork(sid, b["id"])
    assert forked.session_id != sid
    assert forked.parent_session_id == sid
    session = SessionStore(store.workspace).load(forked.session_id)
    assert session.header["parentSession"] == sid
    assert session.header["parentEntry"] == b["id"]
    assert [e["id"] for e in session.path()] == [a["id"], b["id"]]
    with store.writer(forked.session_id) as w:
        assert w.append(user("new branch"))["parentId"] == b["id"]
    assert len(store.load(sid).entries) == 3
    whole = store.fork(sid)
    assert len(store.load(whole.session_id).path()) == 3
    with pytest.raises(EntryNotFound):
        store.fork(sid, "nope")


def test_list_newest_first_paged(store: SessionStore) -> None:
    ids = [store.create().session_id for _ in range(7)]
    with store.writer(ids[2]) as w:
        w.append(user("bump"))
    seen, cursor = [], None
    while True:
        page, cursor = store.list(cursor=cursor, limit=3)
        seen.extend(s.session_id for s in page)
        if cursor is None:
            break
    assert seen[0] == ids[2]
    assert seen[1:] == [i for i in reversed(ids) if i != ids[2]]
    everything, end = store.list(limit=None)
    assert [s.session_id for s in everything] == seen and end is None
    assert store.most_recent().session_id == ids[2]
    with pytest.raises(InvalidCursor):
        store.list(cursor="!!garbage")


def test_list_query(store: SessionStore) -> None:
    a = store.create(name="Login Bug").session_id
    b = store.create().session_id
    with store.writer(b) as w:
        w.append(user("Refactor the PARSER please"))
    store.create()
    assert [s.session_id for s in store.list(query="login")[0]] == [a]
    assert [s.session_id for s in store.list(query="parser")[0]] == [b]
    assert store.list(query="nothing matches")[0] == []


def test_first_message_truncated(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append(user("word " * 200))
    info = store.info(sid)
    assert 150 <= len(info.first_message) <= 200


def test_list_all_workspaces(home: Path, tmp_path: Path) -> None:
    stores = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        stores.append(SessionStore(tmp_path / name))
    ids = [stores[i % 2].create().session_id for i in range(5)]
    page, cursor = list_all_workspaces(limit=3)
    rest, end = list_all_workspaces(cursor=cursor, limit=3)
    assert [s.session_id for s in page + rest] == list(reversed(ids))
    assert end is None
    assert {s.workspace for s in page + rest} == {str(tmp_path / "one"), str(tmp_path / "two")}


def test_fingerprint_changes_on_write(store: SessionStore) -> None:
    empty = store.fingerprint()
    sid = store.create().session_id
    created = store.fingerprint()
    assert created != empty
    assert store.fingerprint() == created
    with store.writer(sid) as w:
        w.append(user("x"))
    assert store.fingerprint() != created


def test_session_info_json(store: SessionStore) -> None:
    info = store.create(name="n")
    data = info.to_json()
    assert data["sessionId"] == info.session_id and data["name"] == "n"
    assert set(data) >= {"workspace", "createdAt", "modifiedAt", "messageCount", "firstMessage"}
