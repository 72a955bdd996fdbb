"""The blob store: dedup, integrity, permissions, accounting."""

from __future__ import annotations

import hashlib
import stat
import zlib

import pytest

from agent_ls.checkpoints import BlobCorrupt, BlobMissing, BlobStore


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "ws" / "blobs")


def test_put_names_blobs_by_the_raw_content_and_compresses(blobs):
    data = b"hello world\n" * 1000
    sha = blobs.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    stored = blobs.directory / sha[:2] / sha[2:]
    assert zlib.decompress(stored.read_bytes()) == data
    assert blobs.size(sha) == stored.stat().st_size < len(data)
    assert blobs.get(sha) == data and blobs.has(sha)


def test_files_are_private(blobs):
    sha = blobs.put(b"secret")
    path = blobs.path_of(sha)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(blobs.directory.stat().st_mode) == 0o700


def test_dedup_writes_once(blobs):
    sha = blobs.put(b"same")
    inode = blobs.path_of(sha).stat().st_ino
    assert blobs.put(b"same") == sha
    assert blobs.path_of(sha).stat().st_ino == inode
    assert list(blobs) == [sha]


def test_empty_and_binary_content(blobs):
    for data in (b"", bytes(range(256)), b"\0" * 10):
        assert blobs.get(blobs.put(data)) == data


def test_corruption_and_absence_are_reported(blobs):
    sha = blobs.put(b"content")
    blobs.path_of(sha).write_bytes(zlib.compress(b"tampered"))
    with pytest.raises(BlobCorrupt):
        blobs.get(sha)
    blobs.path_of(sha).write_bytes(b"not zlib")
    with pytest.raises(BlobCorrupt):
        blobs.get(sha)
    with pytest.raises(BlobMissing):
        blobs.get("0" * 64)


def test_malformed_names_never_become_paths(blobs):
    for name in ("../../etc/passwd", "ab", "G" * 64, "unknown"):
        assert not blobs.has(name)
        with pytest.raises(BlobMissing):
            blobs.get(name)


def test_delete_and_size_accounting(blobs):
    a, b = blobs.put(b"a" * 5000), blobs.put(b"b" * 7000)
    total = blobs.total_size()
    assert total == blobs.size(a) + blobs.size(b)
    assert blobs.delete(a) == total - blobs.size(b)
    assert blobs.delete(a) == 0
    assert not blobs.has(a) and blobs.has(b)


def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path of every file or directory fsynced from now on."""
    import os

    from agent_ls.checkpoints import blobs as blobs_module

    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(blobs_module.os, "fsync", recording_fsync)
    return synced


def test_sync_flushes_new_blobs_once(blobs, monkeypatch):
    synced = fsynced(monkeypatch)
    sha = blobs.put(b"one")
    blobs.sync()
    path = blobs.path_of(sha)
    assert sorted(synced) == sorted([str(path), str(path.parent), str(blobs.directory)])
    synced.clear()
    blobs.sync()
    assert synced == []  # nothing new: nothing fsynced again


def test_one_blob_store_per_folder_so_scanned_blobs_are_synced(tmp_path, monkeypatch):
    """Blobs the long-lived scanner copies before a command are fsynced at the turn's end."""
    from agent_ls.core.sessions import Folder
    from agent_ls.sessions import SessionStore

    root = tmp_path / "proj"
    root.mkdir()
    (root / "small.txt").write_text("before the command\n")
    folder = Folder(root, SessionStore(root, root=tmp_path / "home"))
    assert folder.blobs is folder.blobs
    scanner = folder.scanner([root])
    synced = fsynced(monkeypatch)
    from agent_ls.checkpoints import TurnRecorder

    recorder = TurnRecorder(folder.blobs, [root], scanner=scanner)
    recorder.command_started()
    (root / "small.txt").write_text("after the command\n")
    recorder.command_finished()
    [record] = recorder.finish()
    assert str(folder.blobs.path_of(record["before"])) in synced
    folder.store.close()


def test_dedup_across_100_turns_editing_one_file(tmp_path):
    from agent_ls.checkpoints import TurnRecorder

    root = tmp_path / "proj"
    root.mkdir()
    blobs = BlobStore(tmp_path / "store" / "blobs")
    target = root / "module.py"
    lines = [f"line {i}: some code that stays the same\n" for i in range(2000)]
    target.write_text("".join(lines))
    shas = set()
    for turn in range(100):
        recorder = TurnRecorder(blobs, [root])
        recorder.before_change(target)
        lines[turn] = f"line {turn}: edited in turn {turn}\n"
        target.write_text("".join(lines))
        [record] = recorder.finish()
        shas |= {record["before"], record["after"]}
    assert len(shas) == 101
    assert len(list(blobs)) == 101


@pytest.mark.parametrize(
    "damage",
    [lambda raw: raw[: len(raw) // 2], lambda raw: zlib.compress(b"other content"), lambda _: b""],
    ids=["truncated", "other content", "empty"],
)
def test_a_damaged_blob_is_rewritten_by_the_next_put(blobs, damage):
    data = b"the content a later checkpoint needs\n" * 50
    sha = blobs.put(data)
    path = blobs.path_of(sha)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(BlobCorrupt):
        blobs.get(sha)
    assert blobs.put(data) == sha
    assert blobs.get(sha) == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
