"""Retention: unreferenced blobs go, referenced ones stay, the budget evicts the oldest."""

from __future__ import annotations

import os
import time

import pytest

from agent_ls.checkpoints import BlobStore, TurnRecorder, checkpoint_entry, collect, sha256_hex
from agent_ls.sessions import SessionStore

LONG_AGO = time.time() - 10 * 86400


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    (tmp_path / "proj").mkdir()
    store = SessionStore(tmp_path / "proj")
    yield store
    store.close()


def turn(store: SessionStore, session_id: str, name: str, data: bytes) -> None:
    blobs = BlobStore(store.dir / "blobs")
    with store.writer(session_id) as writer:
        recorder = TurnRecorder(blobs, [store.workspace])
        path = store.workspace / name
        recorder.before_change(path)
        path.write_bytes(data)
        writer.append(checkpoint_entry(name, recorder.finish()))


def age_all(blobs: BlobStore) -> None:
    """Make every blob look old, past the grace period."""
    for sha in blobs:
        os.utime(blobs.path_of(sha), (LONG_AGO, LONG_AGO))


def test_gc_after_delete_and_purge_frees_the_sessions_blobs(store):
    kept = store.create().session_id
    dropped = store.create().session_id
    turn(store, kept, "kept.txt", b"kept content")
    turn(store, dropped, "dropped.txt", os.urandom(4000))
    blobs = BlobStore(store.dir / "blobs")
    before = set(blobs)
    age_all(blobs)

    store.delete(dropped)
    assert collect(store.dir).removed == 0  # the trash still references them
    assert set(blobs) == before

    store.purge()
    report = collect(store.dir)
    assert report.removed == 1 and report.freed_bytes > 4000
    assert set(blobs) == {blobs.put(b"kept content")}


def test_recent_and_pinned_blobs_survive(store):
    blobs = BlobStore(store.dir / "blobs")
    young = blobs.put(b"a running turn's snapshot")
    old = blobs.put(b"a scanner copy")
    os.utime(blobs.path_of(old), (LONG_AGO, LONG_AGO))
    stray = blobs.put(b"nobody")
    os.utime(blobs.path_of(stray), (LONG_AGO, LONG_AGO))
    report = collect(store.dir, pinned={old})
    assert set(blobs) == {young, old} and report.removed == 1


def test_reusing_a_blob_refreshes_its_grace(store):
    blobs = BlobStore(store.dir / "blobs")
    sha = blobs.put(b"x")
    os.utime(blobs.path_of(sha), (LONG_AGO, LONG_AGO))
    blobs.put(b"x")
    collect(store.dir)
    assert blobs.has(sha)


def test_the_budget_evicts_blobs_of_the_oldest_checkpoints_first(store):
    session = store.create().session_id
    for i in range(5):
        turn(store, session, f"f{i}.bin", os.urandom(10_000))
    blobs = BlobStore(store.dir / "blobs")
    age_all(blobs)
    shas = [sha256_hex((store.workspace / f"f{i}.bin").read_bytes()) for i in range(5)]
    report = collect(store.dir, budget_bytes=25_000)
    assert report.evicted == 3 and report.kept_bytes <= 25_000
    assert [blobs.has(sha) for sha in shas] == [False, False, False, True, True]


def test_stale_temp_files_are_removed(store):
    blobs = BlobStore(store.dir / "blobs")
    sha = blobs.put(b"x")
    tmp = blobs.path_of(sha).parent / ".tmp-crashed"
    tmp.write_bytes(b"half")
    os.utime(tmp, (LONG_AGO, LONG_AGO))
    collect(store.dir)
    assert not tmp.exists()


def collect_elsewhere(store: SessionStore) -> None:
    """`collect` as `agent-ls sessions purge` runs it: in another process."""
    import subprocess
    import sys

    code = "import sys, pathlib; from agent_ls.checkpoints import collect; "
    code += "collect(pathlib.Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(store.dir)], check=True, timeout=60)


def test_a_running_turn_pins_its_blobs_against_other_processes_whatever_their_age(store):
    blobs = BlobStore(store.dir / "blobs")
    path = store.workspace / "long.txt"
    path.write_bytes(b"before a turn that waits overnight")
    recorder = TurnRecorder(blobs, [store.workspace])
    recorder.before_change(path)
    [before] = recorder.pinned()
    age_all(blobs)  # the turn has waited past the grace period

    collect_elsewhere(store)
    assert blobs.get(before) == b"before a turn that waits overnight"

    recorder.release()  # the turn ended without a checkpoint naming it
    collect_elsewhere(store)
    assert not blobs.has(before)
    assert list((store.dir / "pins").iterdir()) == []


def test_a_pin_whose_turn_died_is_stale(store):
    blobs = BlobStore(store.dir / "blobs")
    sha = blobs.put(b"left by a crashed turn")
    age_all(blobs)
    pins = store.dir / "pins"
    pins.mkdir(mode=0o700)
    (pins / "12345-dead.pin").write_text(sha + "\n")  # nobody holds its lock
    collect(store.dir)
    assert not blobs.has(sha)
    assert list(pins.iterdir()) == []


def test_a_fifo_named_like_a_session_does_not_block_gc(store):
    kept = store.create().session_id
    turn(store, kept, "kept.txt", b"kept content")
    os.mkfifo(store.sessions_dir / "2026-01-01T00-00-00-000Z_fifo.jsonl")
    blobs = BlobStore(store.dir / "blobs")
    age_all(blobs)
    assert collect(store.dir).removed == 0  # answered at once, and the live blob is still named
    assert set(blobs) == {blobs.put(b"kept content")}
