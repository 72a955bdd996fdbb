"""Restore against a real session store: revert turns, conflicts, undo, conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ls.checkpoints import (
    BlobStore,
    CheckpointError,
    DirectApplier,
    FileChange,
    OutsideWorkspace,
    TurnRecorder,
    apply,
    checkpoint_entry,
    plan,
)
from agent_ls.sessions import SessionStore


class Workspace:
    """A workspace folder with its store, and turns played by a fake agent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = SessionStore(root)
        self.blobs = BlobStore(self.store.dir / "blobs")
        self.session_id = self.store.create().session_id

    def turn(self, prompt: str, edits: list[tuple[str, bytes | None]]) -> str:
        """One turn: the prompt, the edits in order (None deletes), the checkpoint entry."""
        with self.store.writer(self.session_id) as writer:
            user = writer.append({"type": "message", "role": "user", "content": prompt})
            recorder = TurnRecorder(self.blobs, [self.root])
            for name, data in edits:
                path = self.root / name
                recorder.before_change(path)
                if data is None:
                    path.unlink()
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            writer.append({"type": "message", "role": "assistant", "content": "done"})
            files = recorder.finish()
            entry = checkpoint_entry(f"turn-{prompt}", files, user_entry_id=user["id"])
            return writer.append(entry)["id"]

    def plan(self, checkpoint_id: str, **options):
        return plan(
            self.store.load(self.session_id),
            checkpoint_id,
            blobs=self.blobs,
            roots=[self.root],
            **options,
        )

    async def restore(self, checkpoint_id: str, **options):
        with self.store.writer(self.session_id) as writer:
            planned = plan(
                writer.session, checkpoint_id, blobs=self.blobs, roots=[self.root], **options
            )
            return await apply(planned, DirectApplier([self.root]), self.blobs, writer, "Restore")

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.exists() else None


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    root = tmp_path / "proj"
    root.mkdir()
    workspace = Workspace(root)
    yield workspace
    workspace.store.close()


def results(result) -> dict[str, str]:
    return {Path(f.path).name: f.result for f in result.files}


async def test_created_modified_deleted_are_reverted(ws):
    (ws.root / "keep.txt").write_bytes(b"old\n")
    (ws.root / "gone.txt").write_bytes(b"bye\n")
    cp = ws.turn("t1", [("keep.txt", b"new\n"), ("gone.txt", None), ("sub/new.txt", b"hi\n")])
    entry = ws.store.load(ws.session_id).entries[cp]
    ops = {Path(f["path"]).name: (f["before"] is None, f["after"] is None) for f in entry["files"]}
    assert ops == {"keep.txt": (False, False), "gone.txt": (False, True), "new.txt": (True, False)}

    result = await ws.restore(cp)

    assert result.applied
    assert results(result) == {
        "keep.txt": "restored",
        "gone.txt": "restored",
        "new.txt": "restored",
    }
    assert {Path(f.path).name: f.operation for f in result.files} == {
        "keep.txt": "modified",
        "gone.txt": "deleted",
        "new.txt": "created",
    }
    assert ws.read("keep.txt") == b"old\n"
    assert ws.read("gone.txt") == b"bye\n"
    assert ws.read("sub/new.txt") is None


async def test_restoring_an_earlier_turn_reverts_every_later_turn(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    t1 = ws.turn("one", [("a.txt", b"v1")])
    t2 = ws.turn("two", [("a.txt", b"v2"), ("b.txt", b"b2")])
    t3 = ws.turn("three", [("a.txt", b"v3"), ("b.txt", None), ("c.txt", b"c3")])

    planned = ws.plan(t1)
    assert planned.reverted == [t3, t2, t1]
    by_name = {Path(f.path).name: f for f in planned.files}
    assert by_name["b.txt"].target is None and by_name["b.txt"].expected is None
    assert by_name["b.txt"].result == "unchanged"

    result = await ws.restore(t1)

    assert results(result) == {"a.txt": "restored", "b.txt": "unchanged", "c.txt": "restored"}
    assert ws.read("a.txt") == b"v0"
    assert ws.read("b.txt") is None
    assert ws.read("c.txt") is None


async def test_restoring_a_middle_turn_keeps_earlier_ones(ws):
    ws.turn("one", [("a.txt", b"v1")])
    t2 = ws.turn("two", [("a.txt", b"v2")])
    ws.turn("three", [("a.txt", b"v3")])
    await ws.restore(t2)
    assert ws.read("a.txt") == b"v1"


async def test_a_conflict_writes_nothing_until_forced(ws):
    (ws.root / "a.txt").write_bytes(b"agent before")
    cp = ws.turn("t", [("a.txt", b"agent after"), ("b.txt", b"created")])
    (ws.root / "a.txt").write_bytes(b"user edit")
    size = ws.store.load(ws.session_id).file.stat().st_size

    result = await ws.restore(cp)
    assert not result.applied and result.undo_checkpoint_id is None
    assert results(result) == {"a.txt": "conflict", "b.txt": "restored"}
    assert [f.reason for f in result.files if f.result == "conflict"] == [
        "changed since the checkpoint, and those edits overlap the agent's"
    ]
    assert ws.read("a.txt") == b"user edit"
    assert ws.read("b.txt") == b"created"  # all or nothing: the other file stays too
    assert ws.store.load(ws.session_id).file.stat().st_size == size  # no undo checkpoint

    forced = await ws.restore(cp, force=True)
    assert results(forced) == {"a.txt": "restored", "b.txt": "restored"}
    assert ws.read("a.txt") == b"agent before" and ws.read("b.txt") is None


async def test_undo_after_revert_anyway_puts_back_every_file(ws):
    """The issue's "Revert anyway, then Undo undoes only the second step": the first,
    refused attempt wrote nothing, so the forced one's undo holds every file."""
    (ws.root / "a.txt").write_bytes(b"agent before")
    cp = ws.turn("t", [("a.txt", b"agent after"), ("b.txt", b"created")])
    (ws.root / "a.txt").write_bytes(b"user edit")
    assert not (await ws.restore(cp)).applied

    forced = await ws.restore(cp, force=True)
    undo = await ws.restore(forced.undo_checkpoint_id)

    assert results(undo) == {"a.txt": "restored", "b.txt": "restored"}
    assert ws.read("a.txt") == b"user edit" and ws.read("b.txt") == b"created"


async def test_partial_restores_the_others_and_skips_conflicts(ws):
    (ws.root / "a.txt").write_bytes(b"agent before")
    cp = ws.turn("t", [("a.txt", b"agent after"), ("b.txt", b"created")])
    (ws.root / "a.txt").write_bytes(b"user edit")

    result = await ws.restore(cp, partial=True)

    assert result.applied
    assert results(result) == {"a.txt": "skipped", "b.txt": "restored"}
    assert ws.read("a.txt") == b"user edit" and ws.read("b.txt") is None
    undo = ws.store.load(ws.session_id).entries[result.undo_checkpoint_id]
    assert [Path(f["path"]).name for f in undo["files"]] == ["b.txt"]
    await ws.restore(result.undo_checkpoint_id)
    assert ws.read("b.txt") == b"created"


async def test_undo_of_a_restore_is_a_redo(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    (ws.root / "d.txt").write_bytes(b"doomed")
    cp = ws.turn("t", [("a.txt", b"v1"), ("n.txt", b"new"), ("d.txt", None)])

    result = await ws.restore(cp)
    assert ws.read("a.txt") == b"v0" and ws.read("n.txt") is None and ws.read("d.txt") == b"doomed"
    undo = ws.store.load(ws.session_id).entries[result.undo_checkpoint_id]
    assert undo["kind"] == "undo" and undo["turnId"] == f"restore-{cp}"

    redo = await ws.restore(result.undo_checkpoint_id)
    assert set(results(redo).values()) == {"restored"}
    assert ws.read("a.txt") == b"v1" and ws.read("n.txt") == b"new" and ws.read("d.txt") is None

    again = await ws.restore(redo.undo_checkpoint_id)
    assert set(results(again).values()) == {"restored"}
    assert ws.read("a.txt") == b"v0" and ws.read("n.txt") is None


async def test_restore_after_an_undo_chains_through_it(ws):
    t1 = ws.turn("one", [("a.txt", b"v1")])
    t2 = ws.turn("two", [("a.txt", b"v2")])
    first = await ws.restore(t2)
    assert ws.read("a.txt") == b"v1"

    assert ws.plan(t1).reverted == [first.undo_checkpoint_id, t2, t1]
    result = await ws.restore(t1)
    assert results(result) == {"a.txt": "restored"}
    assert ws.read("a.txt") is None


async def test_binary_files(ws):
    before = bytes(range(256)) * 40
    after = b"\0\xff" * 3000
    (ws.root / "img.bin").write_bytes(before)
    cp = ws.turn("bin", [("img.bin", after), ("new.bin", b"\x89PNG\0\0")])
    result = await ws.restore(cp)
    assert results(result) == {"img.bin": "restored", "new.bin": "restored"}
    assert ws.read("img.bin") == before
    assert ws.read("new.bin") is None


async def test_file_touched_twice_in_one_turn_keeps_the_first_before(ws):
    (ws.root / "a.txt").write_bytes(b"original")
    cp = ws.turn("twice", [("a.txt", b"first"), ("a.txt", b"second")])
    entry = ws.store.load(ws.session_id).entries[cp]
    [record] = entry["files"]
    assert ws.blobs.get(record["before"]) == b"original"
    assert ws.blobs.get(record["after"]) == b"second"
    await ws.restore(cp)
    assert ws.read("a.txt") == b"original"


def test_a_file_changed_and_changed_back_is_not_in_the_checkpoint(ws):
    (ws.root / "a.txt").write_bytes(b"same")
    cp = ws.turn(
        "noop", [("a.txt", b"other"), ("a.txt", b"same"), ("tmp.txt", b"x"), ("tmp.txt", None)]
    )
    assert ws.store.load(ws.session_id).entries[cp]["files"] == []


async def test_restore_after_reopening_the_store(ws, tmp_path):
    (ws.root / "a.txt").write_bytes(b"v0")
    cp = ws.turn("t", [("a.txt", b"v1")])
    ws.store.close()
    ws.store = SessionStore(ws.root)
    ws.blobs = BlobStore(ws.store.dir / "blobs")
    result = await ws.restore(cp)
    assert results(result) == {"a.txt": "restored"}
    assert ws.read("a.txt") == b"v0"


async def test_dry_run_changes_nothing(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    cp = ws.turn("t", [("a.txt", b"v1"), ("b.txt", b"b")])
    size = ws.store.load(ws.session_id).file.stat().st_size
    planned = ws.plan(cp, scope="both")
    assert {Path(f.path).name: f.result for f in planned.files} == {
        "a.txt": "restored",
        "b.txt": "restored",
    }
    assert planned.moves_conversation and planned.leaf_target is None
    assert ws.read("a.txt") == b"v1" and ws.read("b.txt") == b"b"
    assert ws.store.load(ws.session_id).file.stat().st_size == size


async def test_conversation_scope_moves_the_branch_point_before_the_turn(ws):
    ws.turn("one", [("a.txt", b"v1")])
    t2 = ws.turn("two", [("a.txt", b"v2")])
    session = ws.store.load(ws.session_id)
    prompt_two = next(e for e in session.entries.values() if e.get("content") == "two")
    leaf_before = session.leaf_id

    result = await ws.restore(t2, scope="conversation")

    assert result.files == [] and ws.read("a.txt") == b"v2"
    session = ws.store.load(ws.session_id)
    undo = session.entries[result.undo_checkpoint_id]
    assert session.leaf_id == result.undo_checkpoint_id  # the undo record is where we are now
    assert undo["parentId"] == prompt_two["parentId"] == result.leaf_id
    assert undo["conversationTarget"] == leaf_before
    assert [e.get("content") for e in session.path() if e["type"] == "message"] == ["one", "done"]

    redo = await ws.restore(result.undo_checkpoint_id, scope="conversation")
    session = ws.store.load(ws.session_id)
    assert session.leaf_id == redo.undo_checkpoint_id
    assert session.entries[redo.undo_checkpoint_id]["parentId"] == leaf_before == redo.leaf_id
    assert "two" in [e.get("content") for e in session.path()]


async def test_both_scopes_and_the_first_turn(ws):
    t1 = ws.turn("one", [("a.txt", b"v1")])
    leaf_before = ws.store.load(ws.session_id).leaf_id
    result = await ws.restore(t1, scope="both")
    assert ws.read("a.txt") is None
    path = ws.store.load(ws.session_id).path()
    assert [e["id"] for e in path] == [result.undo_checkpoint_id]  # a root: no message left
    back = await ws.restore(result.undo_checkpoint_id, scope="both")
    assert ws.read("a.txt") == b"v1"
    assert back.leaf_id == leaf_before
    assert "one" in [e.get("content") for e in ws.store.load(ws.session_id).path()]


async def test_unsaved_buffer_counts_as_current_content(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    cp = ws.turn("t", [("a.txt", b"v1")])
    buffers = {ws.root / "a.txt": b"v1 plus unsaved typing"}

    def read(path: Path) -> bytes | None:
        return buffers[path] if path in buffers else (path.read_bytes() if path.exists() else None)

    planned = ws.plan(cp, read_bytes=read)
    assert [f.result for f in planned.files] == ["conflict"]


async def test_the_applier_sees_old_and_new_bytes_and_failures_are_reported(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    cp = ws.turn("t", [("a.txt", b"v1"), ("b.txt", b"b")])
    seen: list[FileChange] = []

    class Editor:
        async def apply(self, changes, label):
            seen.extend(changes)
            assert label == "Revert"
            return [True, "document is read-only"]

    with ws.store.writer(ws.session_id) as writer:
        planned = plan(writer.session, cp, blobs=ws.blobs, roots=[ws.root])
        result = await apply(planned, Editor(), ws.blobs, writer, "Revert")
    assert [(c.path.name, c.old_bytes, c.new_bytes) for c in seen] == [
        ("a.txt", b"v1", b"v0"),
        ("b.txt", b"b", None),
    ]
    assert results(result) == {"a.txt": "restored", "b.txt": "failed"}
    assert result.files[1].reason == "document is read-only"


def test_paths_outside_the_roots_or_in_git_are_refused(ws, tmp_path):
    recorder = TurnRecorder(ws.blobs, [ws.root])
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(tmp_path / "elsewhere.txt")
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(ws.root / ".git" / "config")
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(ws.root / "sub" / ".." / ".." / "escape.txt")
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(ws.root.parent / (ws.root.name + "2") / "sibling.txt")
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(ws.root)
    (ws.root / "link").symlink_to(tmp_path)
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(ws.root / "link" / "through.txt")
    assert recorder.before_change(ws.root / "a" / ".gitignore").endswith("/a/.gitignore")


async def test_a_tampered_entry_cannot_write_outside_or_into_git(ws, tmp_path):
    outside = tmp_path / "victim.txt"
    outside.write_bytes(b"safe")
    sha = ws.blobs.put(b"evil")
    files = [
        {"path": outside.as_posix(), "before": sha, "after": None},
        {"path": (ws.root / ".git" / "HEAD").as_posix(), "before": sha, "after": None},
        {"path": "relative.txt", "before": sha, "after": None},
    ]
    with ws.store.writer(ws.session_id) as writer:
        cp = writer.append(checkpoint_entry("t", files))["id"]
    result = await ws.restore(cp, force=True)
    assert {f.result for f in result.files} == {"failed"}
    assert outside.read_bytes() == b"safe"
    assert not (ws.root / ".git").exists()


async def test_missing_snapshot_fails_that_file_only(ws):
    (ws.root / "a.txt").write_bytes(b"v0")
    (ws.root / "b.txt").write_bytes(b"b0")
    cp = ws.turn("t", [("a.txt", b"v1"), ("b.txt", b"b1")])
    ws.blobs.delete(ws.blobs.put(b"v0"))
    result = await ws.restore(cp)
    assert results(result) == {"a.txt": "failed", "b.txt": "restored"}
    assert ws.read("a.txt") == b"v1"


async def test_direct_applier_keeps_the_file_mode(ws):
    script = ws.root / "run.sh"
    script.write_bytes(b"#!/bin/sh\necho 0\n")
    script.chmod(0o755)
    cp = ws.turn("t", [("run.sh", b"#!/bin/sh\necho 1\n")])
    await ws.restore(cp)
    assert script.stat().st_mode & 0o777 == 0o755
    assert not [p.name for p in ws.root.iterdir() if p.name.endswith(".tmp")]


async def test_apply_refuses_a_writer_of_another_session(ws):
    cp = ws.turn("t", [("a.txt", b"v1")])
    other = ws.store.create().session_id
    with ws.store.writer(other) as writer, pytest.raises(CheckpointError):
        await apply(ws.plan(cp), DirectApplier([ws.root]), ws.blobs, writer, "x")
    assert ws.read("a.txt") == b"v1"


async def test_a_path_swapped_for_a_symlink_reports_where_the_restore_wrote(ws):
    (ws.root / "a.txt").write_bytes(b"old\n")
    cp = ws.turn("t1", [("a.txt", b"new\n")])
    (ws.root / "b.txt").write_bytes(b"new\n")
    (ws.root / "a.txt").unlink()
    (ws.root / "a.txt").symlink_to(ws.root / "b.txt")

    result = await ws.restore(cp)

    [file] = result.files
    real_b = (ws.root / "b.txt").resolve().as_posix()
    assert (file.path, file.result) == (real_b, "restored")
    assert file.reason and "a.txt is now a symlink" in file.reason
    assert ws.read("b.txt") == b"old\n"


async def test_an_unanswered_apply_edit_times_out_with_a_sentence(ws):
    """The editor never answers the restore's applyEdit: the open file fails after the
    timeout, a file that is not open is still restored on disk."""
    import asyncio

    from agent_ls.lsp.adapter import EditorApplier

    class SilentEditor:
        roots = (ws.root,)

        def document(self, path: Path) -> object | None:
            return object() if path.name == "open.txt" else None

        def _replace_all(self, doc: object, text: str) -> str:
            return text

        async def _apply(self, edits: list[str], label: str) -> bool:
            await asyncio.Event().wait()  # no answer, ever
            return True

    changes = [
        FileChange(ws.root / "open.txt", b"restored\n", b"agent\n"),
        FileChange(ws.root / "closed.txt", b"restored\n", None),
    ]
    applier = EditorApplier(SilentEditor(), timeout=0.1)  # type: ignore[arg-type]
    outcome = await asyncio.wait_for(applier.apply(changes, "Restore"), 5)
    assert isinstance(outcome[0], str) and "did not answer the edit within" in outcome[0]
    assert outcome[1] is True and ws.read("closed.txt") == b"restored\n"
