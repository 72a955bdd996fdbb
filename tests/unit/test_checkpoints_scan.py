"""Shell-command changes: stat scans, .gitignore, prior copies, limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_ls.checkpoints import UNKNOWN, BlobStore, ScanLimits, Scanner, TurnRecorder
from agent_ls.checkpoints.scan import scan
from agent_ls.files.regular import read_regular


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('v0')\n")
    (root / "notes.txt").write_text("notes\n")
    (root / "big.dat").write_bytes(b"x" * 300_000)
    (root / "image.bin").write_bytes(b"\0\1\2")
    return root.resolve()


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "store" / "blobs")


def by_path(files):
    return {Path(f["path"]).name: f for f in files}


def bump(path: Path, data: bytes) -> None:
    """Write and move the mtime on, so a same-size rewrite is seen on coarse clocks too."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(data)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_command_changes_with_prior_copies_are_restorable(root, blobs):
    recorder = TurnRecorder(blobs, [root])
    recorder.command_started()
    bump(root / "src" / "app.py", b"print('v1')\n")
    (root / "notes.txt").unlink()
    (root / "src" / "gen.py").write_text("generated\n")
    changes = recorder.command_finished()

    assert [Path(p).name for p in changes.modified] == ["app.py"]
    assert [Path(p).name for p in changes.deleted] == ["notes.txt"]
    assert [Path(p).name for p in changes.created] == ["gen.py"]
    assert changes.not_restorable == [] and changes.complete
    files = by_path(recorder.finish())
    assert blobs.get(files["app.py"]["before"]) == b"print('v0')\n"
    assert blobs.get(files["notes.txt"]["before"]) == b"notes\n"
    assert files["notes.txt"]["after"] is None
    assert files["gen.py"]["before"] is None


def test_command_changes_without_a_copy_are_not_restorable(root, blobs):
    recorder = TurnRecorder(blobs, [root])
    recorder.command_started()
    bump(root / "big.dat", b"y" * 300_000)
    (root / "image.bin").unlink()
    changes = recorder.command_finished()

    assert sorted(Path(p).name for p in changes.not_restorable) == ["big.dat", "image.bin"]
    files = by_path(recorder.finish())
    assert files["big.dat"]["before"] == UNKNOWN
    assert files["image.bin"] == {
        "path": files["image.bin"]["path"],
        "before": UNKNOWN,
        "after": None,
    }


def test_agent_edits_before_a_command_keep_their_snapshot(root, blobs):
    recorder = TurnRecorder(blobs, [root])
    app = root / "src" / "app.py"
    recorder.before_change(app)
    bump(app, b"agent edit\n")
    recorder.command_started()
    bump(app, b"formatter output\n")
    changes = recorder.command_finished()
    assert changes.modified == []
    [record] = recorder.finish()
    assert blobs.get(record["before"]) == b"print('v0')\n"
    assert blobs.get(record["after"]) == b"formatter output\n"


def test_copies_stay_in_memory_until_a_command_changes_their_file(root, blobs):
    scanner = Scanner([root], blobs)
    scanner.scan_and_copy()
    assert list(blobs) == []
    recorder = TurnRecorder(blobs, [root], scanner=scanner)
    recorder.command_started()
    bump(root / "src" / "app.py", b"changed\n")
    changes = recorder.command_finished()
    assert len(changes.modified) == 1 and changes.not_restorable == []
    assert [blobs.get(sha) for sha in blobs] == [b"print('v0')\n"]


def test_a_scanner_kept_across_turns_rereads_only_changed_files(root, blobs, monkeypatch):
    scanner = Scanner([root], blobs)
    scanner.scan_and_copy()
    bump(root / "notes.txt", b"new notes\n")
    opened: list[str] = []
    real_read = read_regular

    def spy(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr("agent_ls.checkpoints.scan.read_regular", spy)
    scanner.scan_and_copy()
    monkeypatch.undo()
    assert [name for name in opened if name != ".gitignore"] == ["notes.txt"]


def test_the_copy_memory_is_bounded(root, blobs):
    scanner = Scanner([root], blobs, limits=ScanLimits(copy_memory_bytes=20))
    recorder = TurnRecorder(blobs, [root], scanner=scanner)
    recorder.command_started()
    bump(root / "src" / "app.py", b"changed\n")
    bump(root / "notes.txt", b"changed too\n")
    changes = recorder.command_finished()
    assert len(changes.modified) == 2 and len(changes.not_restorable) >= 1


def test_gitignore_and_git_are_skipped(root, blobs):
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"obj")
    (root / "x.log").write_text("log")
    (root / "keep.log").write_text("keep")
    (root / "src" / ".gitignore").write_text("secret.py\n")
    (root / "src" / "secret.py").write_text("s")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    (root / ".git" / "info").mkdir()
    (root / ".git" / "info" / "exclude").write_text("notes.txt\n")
    names = {Path(p).name for p in scan([root]).files}
    assert names == {".gitignore", "app.py", "big.dat", "image.bin", "keep.log"}


def test_symlinks_are_not_followed(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.txt").write_text("o")
    (root / "link").symlink_to(outside)
    (root / "file-link").symlink_to(root / "notes.txt")
    assert {Path(p).name for p in scan([root]).files} == {
        "app.py",
        "notes.txt",
        "big.dat",
        "image.bin",
    }


def test_the_scan_is_bounded_and_an_incomplete_scan_claims_no_creations(root, blobs):
    for i in range(20):
        (root / f"f{i:02}.txt").write_text(str(i))
    limited = Scanner([root], blobs, limits=ScanLimits(max_files=5))
    snapshot = limited.scan()
    assert len(snapshot.files) == 5 and not snapshot.complete

    recorder = TurnRecorder(blobs, [root], scanner=limited)
    recorder.command_started()
    changes = recorder.command_finished()
    assert not changes.complete
    for path in changes.created:
        assert path in changes.not_restorable


def test_a_deleted_file_beyond_an_incomplete_scan_is_checked_directly(root, blobs):
    recorder = TurnRecorder(blobs, [root], scanner=Scanner([root], blobs))
    recorder.command_started()
    (root / "notes.txt").unlink()
    changes = recorder.command_finished()
    assert [Path(p).name for p in changes.deleted] == ["notes.txt"]


def test_the_store_inside_the_workspace_is_not_scanned(tmp_path):
    root = (tmp_path / "proj").resolve()
    root.mkdir()
    store_blobs = BlobStore(root / ".agent-ls" / "ws" / "blobs")
    (root / "a.txt").write_text("a")
    recorder = TurnRecorder(store_blobs, [root])
    recorder.command_started()
    bump(root / "a.txt", b"b")
    changes = recorder.command_finished()
    assert [Path(p).name for p in changes.modified] == ["a.txt"]
    assert changes.created == []


def test_the_scan_stops_at_its_time_limit(root):
    for i in range(30):
        (root / f"d{i}").mkdir()
    snapshot = scan([root], limits=ScanLimits(max_seconds=0))
    assert not snapshot.complete


def test_fifos_are_neither_scanned_nor_read(root, blobs):
    os.mkfifo(root / "pipe")
    os.mkfifo(root / "src" / "pipe.py")
    recorder = TurnRecorder(blobs, [root])
    recorder.command_started()
    (root / "src" / "app.py").write_text("changed\n")
    changes = recorder.command_finished()
    assert [Path(p).name for p in changes.modified] == ["app.py"] and changes.created == []
    assert recorder.before_change(root / "pipe").endswith("/pipe")  # read as absent, at once
