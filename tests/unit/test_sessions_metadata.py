"""Tags, metadata, touched files, custom ids, reset and focus: kept in the files, read back
through the index (also when it is rebuilt from the JSONL alone)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_ls.sessions import InvalidSessionId, SessionStore
from agent_ls.sessions.errors import SessionExists
from agent_ls.sessions.index import Filters
from tests.unit.conftest import user


def ids(store: SessionStore, filters: Filters) -> list[str]:
    return [s.session_id for s in store.list(limit=None, filters=filters)[0]]


def rebuilt(store: SessionStore, workspace: Path) -> SessionStore:
    """The same workspace with index.sqlite deleted: everything comes from the JSONL."""
    path = store._index.path
    store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.unlink(f"{path}{suffix}")
    return SessionStore(workspace)


def checkpoint(*paths: str) -> dict:
    files = [{"path": p, "before": None, "after": "ab" * 32} for p in paths]
    return {"type": "checkpoint", "turnId": "t", "kind": "turn", "files": files}


def test_touched_path_lists_the_sessions_whose_checkpoints_name_it(
    store: SessionStore, tmp_path: Path
) -> None:
    a, b, c = (store.create().session_id for _ in range(3))
    with store.writer(a) as w:
        w.append(user("edit"))
        w.append(checkpoint("/w/src/app.py", "/w/README.md"))
    with store.writer(b) as w:
        w.append(checkpoint("/w/src/app.py.bak"))
        w.append(checkpoint("/w/src/app.py"))
    with store.writer(c) as w:
        w.append(checkpoint("/w/src/other.py"))
    assert set(ids(store, Filters(touched="/w/src/app.py"))) == {a, b}
    assert ids(store, Filters(touched="/w/README.md")) == [a]
    assert ids(store, Filters(touched="/w/src")) == []  # a whole path, not a prefix
    again = rebuilt(store, tmp_path / "proj")
    try:
        assert set(ids(again, Filters(touched="/w/src/app.py"))) == {a, b}
    finally:
        again.close()


def test_tags_replace_metadata_merges_and_both_filter(store: SessionStore, tmp_path: Path) -> None:
    a, b = store.create().session_id, store.create().session_id
    store.set_metadata(a, ["bug", "auth"], {"project": "web", "owner": "ana"})
    info = store.set_metadata(b, ["bug"], {"project": "api"})
    assert (info.tags, info.metadata) == (["bug"], {"project": "api"})
    info = store.set_metadata(a, ["auth", "release"], {"owner": None, "ticket": "T-1"})
    assert info.tags == ["auth", "release"]
    assert info.metadata == {"project": "web", "ticket": "T-1"}
    assert ids(store, Filters(tags=("auth",))) == [a]
    assert ids(store, Filters(tags=("bug",))) == [b]
    assert ids(store, Filters(tags=("auth", "bug"))) == []
    assert ids(store, Filters(metadata={"project": "api"})) == [b]
    assert ids(store, Filters(tags=("release",), metadata={"ticket": "T-1"})) == [a]
    assert ids(store, Filters(metadata={"owner": "ana"})) == []
    assert store.info(a).to_json()["tags"] == ["auth", "release"]
    again = rebuilt(store, tmp_path / "proj")
    try:
        assert again.info(a).tags == ["auth", "release"]
        assert again.info(a).metadata == {"project": "web", "ticket": "T-1"}
        assert ids(again, Filters(tags=("bug",))) == [b]
    finally:
        again.close()


def test_a_rename_keeps_tags_and_tags_keep_the_name(store: SessionStore) -> None:
    sid = store.create(name="first").session_id
    store.set_metadata(sid, ["x"], None)
    store.rename(sid, "second")
    info = store.info(sid)
    assert (info.name, info.tags) == ("second", ["x"])


def test_custom_ids_are_validated_and_never_taken_twice(store: SessionStore) -> None:
    info = store.create(name="mine", session_id="ticket-42.retry_1")
    assert info.session_id == "ticket-42.retry_1"
    assert store.info("ticket-42.retry_1").name == "mine"
    for bad in ["", ".hidden", "-x", "a/b", "a b", "x" * 129, "é", "../up", "a\n"]:
        with pytest.raises(InvalidSessionId):
            store.create(session_id=bad)
    store.create(session_id="x" * 128)
    with pytest.raises(SessionExists):
        store.create(session_id="ticket-42.retry_1")
    store.delete("ticket-42.retry_1")
    with pytest.raises(SessionExists):  # the trash still holds it
        store.create(session_id="ticket-42.retry_1")
    store.restore("ticket-42.retry_1")
    assert store.info("ticket-42.retry_1").name == "mine"


def test_reset_starts_a_new_branch_and_keeps_the_old_one(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        first = w.append(user("old question"))
        second = w.append(user("old follow-up"))
    store.reset(sid)
    session = store.load(sid)
    assert session.leaf_id is None and session.path() == []
    with store.writer(sid) as w:
        fresh = w.append(user("new start"))
    session = store.load(sid)
    assert fresh["parentId"] is None
    assert [e["id"] for e in session.path()] == [fresh["id"]]
    assert [e["id"] for e in session.path(second["id"])] == [first["id"], second["id"]]


def test_focus_moves_to_the_newest_tip_of_the_branch_holding_the_entry(
    store: SessionStore,
) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        root = w.append(user("root"))
        old = w.append(user("old branch"))
        old_tip = w.append(user("old branch, later"))
        w.set_leaf(root["id"])
        new = w.append(user("new branch"))
    assert store.branch_tip(sid, new["id"]) is None  # on the active path: nothing moves
    assert store.branch_tip(sid, root["id"]) is None
    tip = store.branch_tip(sid, old["id"])
    assert tip == old_tip["id"]
    store.move_leaf(sid, tip)
    session = store.load(sid)
    assert session.leaf_id == old_tip["id"]
    assert [e["id"] for e in session.path()] == [root["id"], old["id"], old_tip["id"]]


def test_trash_says_when_each_session_was_deleted(store: SessionStore) -> None:
    a, b = store.create().session_id, store.create().session_id
    store.delete(b)
    store.delete(a)
    trash = store.trash()
    assert [info.session_id for info, _ in trash] == [a, b]
    assert trash[0][1] >= trash[1][1] > trash[1][0].created_at
    assert json.loads(json.dumps([info.to_json() for info, _ in trash]))[0]["sessionId"] == a
