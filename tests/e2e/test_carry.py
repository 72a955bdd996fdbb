"""agent/session/export and agent/session/import through the real server over stdio: a bundle
made by one server restores its checkpoint on another; imports from other agents; bad input."""

from __future__ import annotations

from pathlib import Path

from agent_ls.checkpoints import BlobStore, TurnRecorder, checkpoint_entry
from agent_ls.sessions.store import SessionStore
from tests.e2e.harness import connect

INVALID = -32602
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"


def session_with_a_checkpoint(workspace: Path, home: Path) -> tuple[str, str]:
    """What a turn leaves: a prompt, then a checkpoint of the file it changed (v0 → v1)."""
    (workspace / "a.txt").write_text("v0\n")
    store = SessionStore(workspace, root=home)
    try:
        blobs = BlobStore(store.dir / "blobs")
        sid = store.create(name="to carry").session_id
        with store.writer(sid) as writer:
            writer.append({"type": "message", "role": "user", "content": "edit a.txt"})
            recorder = TurnRecorder(blobs, [workspace])
            recorder.before_change(workspace / "a.txt")
            (workspace / "a.txt").write_text("v1\n")
            checkpoint = writer.append(checkpoint_entry("t1", recorder.finish()))["id"]
    finally:
        store.close()
    return sid, checkpoint


async def test_export_then_import_on_another_server_and_restore(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "proj", tmp_path / "b" / "work"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    sid, checkpoint = session_with_a_checkpoint(a, tmp_path / "home-a")
    bundle = tmp_path / "carry.tar"
    async with connect([a], tmp_path / "home-a") as agent:
        carry = agent.initialize_result.capabilities.experimental["agent"]["carry"]
        assert carry["export"] == ["markdown", "html", "jsonl", "bundle"]
        md = await agent.request("agent/session/export", {"sessionId": sid})
        assert md["content"].startswith("# to carry") and "+v1" in md["content"]
        page = tmp_path / "t.html"
        done = await agent.request(
            "agent/session/export", {"sessionId": sid, "format": "html", "path": page.as_uri()}
        )
        assert done == {"path": str(page), "bytes": page.stat().st_size}
        done = await agent.request(
            "agent/session/export", {"sessionId": sid, "format": "bundle", "path": str(bundle)}
        )
        assert done["bytes"] == bundle.stat().st_size
        err = await agent.error("agent/session/export", {"sessionId": sid, "format": "bundle"})
        assert err.code == INVALID and "path" in str(err)  # type: ignore[attr-defined]
    (b / "a.txt").write_text("v1\n")
    async with connect([b], tmp_path / "home-b") as agent:
        result = await agent.request("agent/session/import", {"path": str(bundle)})
        [info] = result["imported"]
        assert info["sessionId"] == sid and info["workspace"] == str(b.resolve())
        assert result["skipped"] == 0 and result["problems"] == []
        restored = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": f"{sid}:{checkpoint}", "scope": "files"}
        )
        assert restored["applied"] and (b / "a.txt").read_text() == "v0\n"
        again = await agent.request("agent/session/import", {"path": str(bundle)})
        assert again == {"imported": [], "skipped": 1, "problems": []}
        bad = tmp_path / "bad.tar"
        bad.write_bytes(b"definitely not a tar" * 50)
        err = await agent.error("agent/session/import", {"path": str(bad)})
        assert err.code == INVALID and "not a readable .tar bundle" in str(err)  # type: ignore[attr-defined]
        err = await agent.error("agent/session/import", {"path": "relative.tar"})
        assert err.code == INVALID and "relative" in str(err)  # type: ignore[attr-defined]


async def test_import_from_another_agent(tmp_path: Path) -> None:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    source = FIXTURES / "pi" / "v3.jsonl"
    folder = tmp_path / "pi-sessions"
    folder.mkdir()
    (folder / source.name).write_bytes(source.read_bytes())
    async with connect([workspace], tmp_path / "home") as agent:
        params = {"from": "pi", "path": str(folder)}
        result = await agent.request("agent/session/import", params)
        [info] = result["imported"]
        assert info["name"] == "File listing" and result["skipped"] == 0
        assert any("future_entry_kind" in p for p in result["problems"])
        switched = await agent.request("agent/session/switch", {"sessionId": info["sessionId"]})
        kinds = [i["kind"] for i in switched["items"]]
        assert kinds == [
            "user", "assistant", "tool", "assistant", "user", "user", "compaction", "user",
        ]  # fmt: skip
        assert (await agent.request("agent/session/import", params))["skipped"] == 1
        err = await agent.error("agent/session/import", {"from": "vim"})
        assert err.code == INVALID and "from" in str(err)  # type: ignore[attr-defined]
