"""What clients show: per-file diffs and the checkpoint list with conflict flags."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from agent_ls.checkpoints import (
    UNKNOWN,
    BlobStore,
    TurnRecorder,
    checkpoint_entry,
    file_diffs,
    list_checkpoints,
)
from agent_ls.sessions import SessionStore


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def test_text_diffs_have_before_after_and_a_unified_diff(blobs):
    entry = checkpoint_entry(
        "t",
        [
            {
                "path": "/w/a.py",
                "before": blobs.put(b"x = 1\ny = 2\n"),
                "after": blobs.put(b"x = 1\ny = 3\n"),
            },
            {"path": "/w/new.py", "before": None, "after": blobs.put(b"print()\n")},
            {"path": "/w/old.py", "before": blobs.put(b"gone"), "after": None},
        ],
    )
    a, new, old = file_diffs(entry, blobs)
    assert a.uri == "file:///w/a.py" and a.operation == "modified"
    assert (a.before, a.after) == ("x = 1\ny = 2\n", "x = 1\ny = 3\n")
    assert "-y = 2\n+y = 3\n" in a.diff and a.diff.startswith("--- a/w/a.py\n+++ b/w/a.py\n")
    assert new.operation == "created" and new.before is None
    assert new.diff.startswith("--- /dev/null\n+++ b/w/new.py\n")
    assert old.operation == "deleted" and old.after is None
    assert "+++ /dev/null" in old.diff and "-gone\n" in old.diff


def test_binary_unknown_and_missing(blobs):
    entry = checkpoint_entry(
        "t",
        [
            {
                "path": "/w/img.png",
                "before": blobs.put(b"\x89PNG\0"),
                "after": blobs.put(b"\x89PNG\0\1"),
            },
            {"path": "/w/cmd.txt", "before": UNKNOWN, "after": blobs.put(b"made by a command")},
            {"path": "/w/lost.txt", "before": "0" * 64, "after": None},
        ],
    )
    img, cmd, lost = file_diffs(entry, blobs, uri_for=lambda p: "x:" + p)
    assert img.uri == "x:/w/img.png"
    assert img.before is None and img.diff == "Binary file /w/img.png changed\n"
    assert not cmd.restorable and cmd.after == "made by a command"
    assert "unknown" in cmd.diff
    assert "missing" in lost.diff
    assert [d.path for d in file_diffs(entry, blobs, paths={"/w/cmd.txt"})] == ["/w/cmd.txt"]


def test_the_list_shows_prompts_operations_and_conflicts(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    root = (tmp_path / "proj").resolve()
    root.mkdir()
    store = SessionStore(root)
    blobs = BlobStore(store.dir / "blobs")
    sid = store.create().session_id
    ids = []
    for prompt, edits in [("first", {"a.txt": b"1"}), ("second", {"a.txt": b"2", "b.txt": b"b"})]:
        with store.writer(sid) as writer:
            # No userEntryId in the entry: the prompt is found through the ancestors.
            writer.append({"type": "message", "role": "user", "content": prompt})
            recorder = TurnRecorder(blobs, [root])
            for name, data in edits.items():
                recorder.before_change(root / name)
                (root / name).write_bytes(data)
            files = recorder.finish()
            ids.append(writer.append(checkpoint_entry(prompt, files))["id"])
            assert files

    (root / "b.txt").write_bytes(b"user edit")
    first, second = list_checkpoints(store.load(sid))
    store.close()

    assert [first.checkpoint_id, second.checkpoint_id] == ids
    assert (first.prompt, second.prompt) == ("first", "second")
    assert first.user_entry_id and first.active and first.kind == "turn"
    assert [(Path(f.path).name, f.operation, f.conflict) for f in first.files] == [
        ("a.txt", "created", False)
    ]
    assert [(Path(f.path).name, f.operation, f.conflict) for f in second.files] == [
        ("a.txt", "modified", False),
        ("b.txt", "created", True),
    ]
    assert asdict(second.files[1]) == {
        "path": (root / "b.txt").as_posix(),
        "operation": "created",
        "restorable": True,
        "conflict": True,
    }
