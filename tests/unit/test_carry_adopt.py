"""`SessionStore.adopt`, the one way imports write a session: whole, ids and times kept,
refused when the id is taken or the entries are not a tree in file order."""

from __future__ import annotations

import pytest

from agent_ls.sessions import SessionStore, StoreError
from agent_ls.sessions.errors import SessionExists
from agent_ls.sessions.format import make_header

TS = "2025-01-02T03:04:05.000Z"


def entry(entry_id: str, parent: str | None, **fields: object) -> dict:
    return {"ts": TS, "parentId": parent, "id": entry_id, "type": "message", **fields}


def test_adopt_writes_entries_as_given_and_indexes_them(store: SessionStore) -> None:
    header = make_header("imported-1", str(store.workspace), TS)
    info = store.adopt(
        header,
        [
            entry("aaaa0001", None, role="user", content="hello"),
            entry("aaaa0002", "aaaa0001", role="assistant", content="hi"),
        ],
    )
    assert info.session_id == "imported-1" and info.created_at == TS
    assert info.message_count == 2 and info.first_message == "hello"
    lines = info.path.read_text().splitlines()
    assert lines[1].startswith('{"type":"message","id":"aaaa0001","parentId":null,"ts":"2025-')
    assert [s.session_id for s in store.list()[0]] == ["imported-1"]
    with store.writer("imported-1") as writer:  # an ordinary session from now on
        assert (
            writer.append({"type": "message", "role": "user", "content": "more"})["parentId"]
            == "aaaa0002"
        )


def test_adopt_refuses_taken_ids_and_bad_trees(store: SessionStore) -> None:
    header = make_header("taken", str(store.workspace), TS)
    store.adopt(header, [])
    with pytest.raises(SessionExists):
        store.adopt(header, [])
    store.delete("taken")
    with pytest.raises(SessionExists):  # in the trash, still taken
        store.adopt(header, [])
    fresh = make_header("fresh", str(store.workspace), TS)
    with pytest.raises(StoreError, match="no earlier parent"):
        store.adopt(fresh, [entry("bbbb0001", "later"), entry("later", None)])
    with pytest.raises(StoreError, match="unique"):
        store.adopt(fresh, [entry("bbbb0001", None), entry("bbbb0001", None)])
    with pytest.raises(StoreError, match="invalid session id"):
        store.adopt(make_header("../x", str(store.workspace), TS), [])
    assert [s.session_id for s in store.list()[0]] == []
