"""Property: restoring any checkpoint returns the files to how they were before its turn, and
undoing that restore returns them to how they were before the restore, for any history."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ls.checkpoints import (
    BlobStore,
    DirectApplier,
    TurnRecorder,
    apply,
    checkpoint_entry,
    plan,
)
from agent_ls.sessions import SessionStore

NAMES = ("a.txt", "b.bin", "d/c.txt")
content = st.one_of(st.none(), st.binary(max_size=40))
turns = st.lists(
    st.lists(st.tuples(st.sampled_from(NAMES), content), max_size=4), min_size=1, max_size=5
)


def state(root: Path) -> dict[str, bytes | None]:
    return {n: (root / n).read_bytes() if (root / n).exists() else None for n in NAMES}


def write(root: Path, name: str, data: bytes | None) -> None:
    path = root / name
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


async def restore(store: SessionStore, sid: str, blobs: BlobStore, root: Path, cp: str):
    with store.writer(sid) as writer:
        planned = plan(writer.session, cp, blobs=blobs, roots=[root])
        return await apply(planned, DirectApplier([root]), blobs, writer, "t")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=turns, pick=st.integers(min_value=0))
def test_restore_then_undo_round_trips(history, pick):
    with tempfile.TemporaryDirectory() as tmp:
        home, root = Path(tmp, "home"), Path(tmp, "proj").resolve()
        root.mkdir()
        store = SessionStore(root, root=home)
        blobs = BlobStore(store.dir / "blobs")
        sid = store.create().session_id
        before_turn: dict[str, dict[str, bytes | None]] = {}
        for i, edits in enumerate(history):
            snapshot = state(root)
            with store.writer(sid) as writer:
                writer.append({"type": "message", "role": "user", "content": f"turn {i}"})
                recorder = TurnRecorder(blobs, [root])
                for name, data in edits:
                    recorder.before_change(root / name)
                    write(root, name, data)
                files = recorder.finish()
                if files:
                    before_turn[writer.append(checkpoint_entry(str(i), files))["id"]] = snapshot
        if not before_turn:
            return
        cp = list(before_turn)[pick % len(before_turn)]
        now = state(root)
        result = asyncio.run(restore(store, sid, blobs, root, cp))
        assert {f.result for f in result.files} <= {"restored", "unchanged"}
        assert state(root) == before_turn[cp]
        if result.undo_checkpoint_id:
            asyncio.run(restore(store, sid, blobs, root, result.undo_checkpoint_id))
            assert state(root) == now
        store.close()
