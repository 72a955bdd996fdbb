"""Merges, hunks, files and rewind: real files in a temp workspace, real git merge-file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ls.checkpoints.errors import NotARewindPoint, NotInCheckpoint
from agent_ls.checkpoints.hunks import hunks, revert_hunks
from agent_ls.checkpoints.merge import is_text, merge3
from agent_ls.checkpoints.restore import DirectApplier, apply, plan_hunks, plan_rewind
from tests.unit.test_checkpoints_restore import Workspace, results

BASE = b"".join(b"line %d\n" % i for i in range(1, 21))


def lines(*changes: tuple[int, bytes]) -> bytes:
    """BASE with some lines (1-based) replaced."""
    out = BASE.splitlines(keepends=True)
    for number, text in changes:
        out[number - 1] = text
    return b"".join(out)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    root = tmp_path / "proj"
    root.mkdir()
    workspace = Workspace(root)
    yield workspace
    workspace.store.close()


def test_merge3_keeps_both_sides_or_reports_an_overlap() -> None:
    ours = lines((1, b"user 1\n"))
    theirs = lines((15, b"agent 9\n"))
    assert merge3(BASE, ours, theirs) == lines((1, b"user 1\n"), (15, b"agent 9\n"))
    assert merge3(BASE, lines((15, b"user 9\n")), theirs) is None
    assert merge3(BASE, BASE, theirs) == theirs and merge3(BASE, ours, BASE) == ours


def test_is_text() -> None:
    assert is_text(b"plain\n") and is_text(None) and is_text("é".encode())
    assert not is_text(b"a\0b") and not is_text(b"\xff\xfe")


async def test_a_non_overlapping_user_edit_is_merged_and_kept(ws: Workspace) -> None:
    (ws.root / "a.txt").write_bytes(BASE)
    cp = ws.turn("t", [("a.txt", lines((15, b"agent 9\n")))])
    (ws.root / "a.txt").write_bytes(lines((1, b"user 1\n"), (15, b"agent 9\n")))

    planned = ws.plan(cp)
    assert [(f.result, f.reason) for f in planned.files] == [
        ("merged", "your later edits were kept")
    ]
    result = await ws.restore(cp)

    assert result.applied and results(result) == {"a.txt": "merged"}
    assert ws.read("a.txt") == lines((1, b"user 1\n"))
    await ws.restore(result.undo_checkpoint_id)  # the undo puts the merged-over content back
    assert ws.read("a.txt") == lines((1, b"user 1\n"), (15, b"agent 9\n"))


async def test_overlapping_or_binary_edits_conflict(ws: Workspace) -> None:
    (ws.root / "a.txt").write_bytes(BASE)
    (ws.root / "b.bin").write_bytes(b"\0" + BASE)
    cp = ws.turn("t", [("a.txt", lines((5, b"agent\n"))), ("b.bin", b"\0" + lines((15, b"x\n")))])
    (ws.root / "a.txt").write_bytes(lines((5, b"user\n")))
    (ws.root / "b.bin").write_bytes(b"\0" + lines((1, b"y\n"), (15, b"x\n")))

    result = await ws.restore(cp)

    assert not result.applied
    assert results(result) == {"a.txt": "conflict", "b.bin": "conflict"}
    assert ws.read("a.txt") == lines((5, b"user\n"))


async def test_force_overwrites_and_files_limits(ws: Workspace) -> None:
    (ws.root / "a.txt").write_bytes(BASE)
    cp = ws.turn("t", [("a.txt", lines((5, b"agent\n"))), ("b.txt", b"new\n")])
    (ws.root / "a.txt").write_bytes(lines((5, b"user\n")))

    only_b = await ws.restore(cp, paths={(ws.root / "b.txt").as_posix()})
    assert results(only_b) == {"b.txt": "restored"} and ws.read("b.txt") is None
    assert ws.read("a.txt") == lines((5, b"user\n"))

    forced = await ws.restore(cp, force=True)
    assert results(forced) == {"a.txt": "restored", "b.txt": "unchanged"}
    assert ws.read("a.txt") == BASE


def test_hunks_are_numbered_unified_diff_groups() -> None:
    after = lines((2, b"two\n"), (15, b"nine\n"))
    found = hunks(BASE, after)
    assert [h.header for h in found] == ["@@ -1,5 +1,5 @@", "@@ -12,7 +12,7 @@"]
    assert [h.index for h in found] == [0, 1]
    assert hunks(b"", b"a\n")[0].header == "@@ -0,0 +1,1 @@"


def test_revert_hunks_undoes_only_the_named_hunks() -> None:
    after = lines((2, b"two\n"), (15, b"nine\n"))
    assert revert_hunks(BASE, after, after, [1]) == lines((2, b"two\n"))
    user = lines((2, b"two\n"), (5, b"user\n"), (15, b"nine\n"))
    assert revert_hunks(BASE, after, user, [0]) == lines((5, b"user\n"), (15, b"nine\n"))
    assert revert_hunks(BASE, after, lines((2, b"mine\n"), (15, b"nine\n")), [0]) is None
    with pytest.raises(ValueError, match="hunks: 7 not in this change"):
        revert_hunks(BASE, after, after, [7])


async def test_plan_hunks_applies_with_one_undo(ws: Workspace) -> None:
    (ws.root / "a.txt").write_bytes(BASE)
    cp = ws.turn("t", [("a.txt", lines((2, b"two\n"), (15, b"nine\n")))])
    path = (ws.root / "a.txt").as_posix()
    with ws.store.writer(ws.session_id) as writer:
        planned = plan_hunks(writer.session, cp, path, [0], blobs=ws.blobs, roots=[ws.root])
        assert [f.result for f in planned.files] == ["restored"]
        result = await apply(planned, DirectApplier([ws.root]), ws.blobs, writer, "Hunks")
    assert ws.read("a.txt") == lines((15, b"nine\n"))
    await ws.restore(result.undo_checkpoint_id)
    assert ws.read("a.txt") == lines((2, b"two\n"), (15, b"nine\n"))

    session = ws.store.load(ws.session_id)
    with pytest.raises(NotInCheckpoint, match=r"uri: .* is not a file of checkpoint"):
        plan_hunks(session, cp, (ws.root / "x").as_posix(), [0], blobs=ws.blobs, roots=[ws.root])
    with pytest.raises(NotInCheckpoint, match="hunks: 3 not in this change"):
        plan_hunks(session, cp, path, [3], blobs=ws.blobs, roots=[ws.root])


async def test_reverting_every_hunk_of_a_created_file_deletes_it(ws: Workspace) -> None:
    cp = ws.turn("t", [("new.txt", b"hello\n")])
    path = (ws.root / "new.txt").as_posix()
    with ws.store.writer(ws.session_id) as writer:
        planned = plan_hunks(writer.session, cp, path, [0], blobs=ws.blobs, roots=[ws.root])
        await apply(planned, DirectApplier([ws.root]), ws.blobs, writer, "Hunks")
    assert ws.read("new.txt") is None


async def test_rewind_to_the_second_of_four_messages(ws: Workspace) -> None:
    (ws.root / "a.txt").write_bytes(b"v0\n")
    for n in range(1, 5):
        ws.turn(f"p{n}", [("a.txt", b"v%d\n" % n), (f"f{n}.txt", b"x\n")])
    session = ws.store.load(ws.session_id)
    prompts = {e["content"]: e for e in session.entries.values() if e.get("role") == "user"}

    with ws.store.writer(ws.session_id) as writer:
        planned = plan_rewind(writer.session, prompts["p2"]["id"], blobs=ws.blobs, roots=[ws.root])
        assert len(planned.reverted) == 3 and planned.leaf_target == prompts["p2"]["parentId"]
        result = await apply(planned, DirectApplier([ws.root]), ws.blobs, writer, "Rewind")

    assert ws.read("a.txt") == b"v1\n" and ws.read("f1.txt") == b"x\n"
    assert [ws.read(f"f{n}.txt") for n in (2, 3, 4)] == [None, None, None]
    session = ws.store.load(ws.session_id)
    assert [e["content"] for e in session.path() if e.get("role") == "user"] == ["p1"]
    undo = session.entries[result.undo_checkpoint_id]
    assert undo["turnId"] == f"rewind-{prompts['p2']['id']}"

    await ws.restore(result.undo_checkpoint_id, scope="both")
    assert ws.read("a.txt") == b"v4\n" and ws.read("f4.txt") == b"x\n"
    session = ws.store.load(ws.session_id)
    assert [e["content"] for e in session.path() if e.get("role") == "user"] == [
        "p1", "p2", "p3", "p4"
    ]  # fmt: skip


def test_rewind_refuses_what_is_not_a_user_prompt_on_the_path(ws: Workspace) -> None:
    ws.turn("p1", [("a.txt", b"1\n")])
    session = ws.store.load(ws.session_id)
    reply = next(e for e in session.entries.values() if e.get("role") == "assistant")
    for entry_id, why in ((reply["id"], "is not a user message"), ("nope", "is not an entry")):
        with pytest.raises(NotARewindPoint, match=f"entryId: {entry_id} {why}"):
            plan_rewind(session, entry_id, blobs=ws.blobs, roots=[ws.root])
