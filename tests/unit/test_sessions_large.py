"""Large sessions: a turn reads only what the model sees, and never the whole file (issue 11)."""

from __future__ import annotations

import itertools
import os
import resource
import time
from dataclasses import asdict
from typing import Any

import pytest

from agent_ls.agent.conversation import build_messages
from agent_ls.sessions import SessionStore
from agent_ls.sessions import format as fmt
from agent_ls.sessions.entry_ids import EntryIds
from tests.unit.conftest import user


def assistant(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]}


def compaction(kept: str) -> dict[str, Any]:
    return {"type": "compaction", "summary": "so far", "firstKeptEntryId": kept}


def same_conversation(store: SessionStore, sid: str, session: Any) -> None:
    """The model sees the same messages from the active path as from the whole path."""
    full = store.load(sid).path()
    assert build_messages(session.active_path()) == build_messages(full)
    fresh = store.load(sid)
    assert build_messages(fresh.active_path()) == build_messages(full)


def test_the_active_path_gives_the_same_conversation(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        turns = []
        for n in range(12):
            turns.append(w.append(user(f"prompt {n}")))
            if n in (4, 9):
                w.append(compaction(turns[n - 2]["id"]))
            w.append(assistant(f"answer {n}"))
            same_conversation(store, sid, w.session)
        w.set_leaf(turns[10]["id"])  # a rewind past the last compaction's entries
        same_conversation(store, sid, w.session)
        w.append(assistant("on a branch"))
        same_conversation(store, sid, w.session)
        w.set_leaf(turns[3]["id"])  # back before both compactions
        same_conversation(store, sid, w.session)
        w.append(compaction("no-such-entry"))  # a compaction whose kept entry is not there
        same_conversation(store, sid, w.session)


def test_a_new_writer_reads_only_since_the_last_compaction(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        for n in range(3000):
            w.append(user(f"prompt {n} " + "x" * 200))
            w.append(assistant(f"answer {n}"))
        kept = w.append(user("kept"))
        w.append(compaction(kept["id"]))
        w.append(assistant("after"))
    size = store.info(sid).path.stat().st_size
    other = SessionStore(store.workspace)  # another process, say: nothing in memory
    try:
        with other.writer(sid) as w:
            w.append(user("next turn"))
            path = w.session.active_path()
            assert [e["id"] for e in path][:1] == [kept["id"]] and len(path) == 4
            assert not w.session.complete  # the ~1.3 MB before the compaction was never parsed
            assert w.session._start > size // 2
            parsed = w.session
        with other.writer(sid) as w:  # the next turn starts from what the last one had
            assert w.session is parsed
            assert w.session.active_path()[-1]["content"][0]["text"] == "next turn"
    finally:
        other.close()
    with store.writer(sid) as w:  # the file grew behind this store's back: read it again
        assert w.session.active_path()[-1]["content"][0]["text"] == "next turn"


def test_a_new_id_never_repeats_one_in_the_file(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        old = [w.append(user(f"{n} " + "x" * 5000))["id"] for n in range(50)]
    picks = itertools.chain(old, ["0badc0de"])
    monkeypatch.setattr(fmt, "random_hex", lambda n: next(picks))
    other = SessionStore(store.workspace)  # nothing of the session in memory
    try:
        with other.writer(sid) as w:
            assert w.append(user("new"))["id"] == "0badc0de"
            assert not w.session.complete  # the ids came from the bytes, not from parsing
    finally:
        other.close()


def test_entry_ids_are_read_from_the_bytes_in_any_key_order(tmp_path: Any) -> None:
    path = tmp_path / "s.jsonl"
    lines = [
        b'{"type":"session","id":"S","createdAt":"t"}',
        b'{"type":"message","id":"0000000a","parentId":null,"ts":"t","content":"' + b"y" * 9000,
        b'"}',  # part of no entry: a line that is not JSON
        b'{"parentId":"0000000a","id":"0000000b","type":"message"}',
        b'{"type":"message","id":"0000000c","parentId":"0000000b","ts":"t"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        ids = EntryIds((0, 0, "t"))
        ids.read(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)
    assert all(i in ids for i in ("0000000a", "0000000b", "0000000c"))
    assert "0000000d" not in ids and "S" not in ids


def test_prompting_in_a_big_session_stays_cheap(store: SessionStore) -> None:
    """A 40 MB session with compactions: each later writer + turn costs milliseconds, and memory
    grows by far less than the file (a whole parse would take several times its size)."""
    sid = store.create().session_id
    path = store.info(sid).path
    with open(path, "ab") as out:  # months of turns, written as the agent writes them
        parent = None
        for n in range(4000):
            entry = fmt.encode(
                {
                    "type": "message",
                    "id": f"{n:08x}",
                    "parentId": parent,
                    "ts": "2026-01-01T00:00:00.000Z",
                    "role": "user" if n % 2 == 0 else "assistant",
                    "content": [{"type": "text", "text": "z" * 10_000}],
                }
            )
            out.write(entry)
            parent = f"{n:08x}"
        out.write(
            fmt.encode(
                {
                    "type": "compaction",
                    "id": "c0000000",
                    "parentId": parent,
                    "ts": "2026-01-01T00:00:00.000Z",
                    "summary": "all of it",
                    "firstKeptEntryId": f"{3990:08x}",
                }
            )
        )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.info(sid)
    with store.writer(sid) as w:  # the first writer reads the ids once
        w.append(user("first"))
    times = []
    for n in range(5):
        started = time.perf_counter()
        with store.writer(sid) as w:
            w.append(user(f"turn {n}"))
            messages = build_messages(w.session.active_path())
            w.append(assistant("ok"))
        times.append(time.perf_counter() - started)
        assert len(messages) < 20
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert max(times) < 0.2, times
    assert grown_mb < 20, grown_mb


def test_the_checkpoint_view_lists_what_the_whole_session_lists(
    store: SessionStore, tmp_path: Any
) -> None:
    """Turns with and without userEntryId, an undo checkpoint, a rewind, a branch, a line in
    another key order, a long line: the list is the same as from a full parse."""
    from agent_ls.checkpoints.entries import checkpoint_entry
    from agent_ls.checkpoints.listing import list_checkpoints

    target = tmp_path / "proj" / "f.txt"
    target.write_text("now")
    record = [{"path": str(target), "before": None, "after": "a" * 64}]
    sid = store.create().session_id
    with store.writer(sid) as w:
        turns = []
        for n in range(6):
            prompt = w.append(user(f"prompt {n}"))
            turns.append(prompt)
            w.append(assistant("x" * (300_000 if n == 2 else 10)))
            named = prompt["id"] if n % 2 == 0 else None
            w.append(checkpoint_entry(f"t{n}", record, user_entry_id=named))
        w.append(checkpoint_entry("restore-x", record, kind="undo"))
        w.set_leaf(turns[3]["parentId"])  # a conversation restore: turns 3.. leave the path
        w.append(user("on a branch"))
        w.append(checkpoint_entry("t-branch", record))
    path = store.info(sid).path
    with open(path, "ab") as out:  # an entry written by another tool, keys in another order
        leaf = store.load(sid).leaf_id
        line = {"files": record, "kind": "turn", "turnId": "t-odd", "parentId": leaf}
        out.write(fmt.encode(line | {"type": "checkpoint", "id": "0dd0dd00", "ts": "t"}))

    def listed(view: Any) -> list[dict[str, Any]]:
        return [asdict(s) for s in list_checkpoints(view)]

    full = listed(store.load(sid))
    assert len(full) == 9 and {s["active"] for s in full} == {True, False}
    assert [s["prompt"] for s in full][:6] == [f"prompt {n}" for n in range(6)]
    assert listed(store.checkpoint_view(sid)) == full
