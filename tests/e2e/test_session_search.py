"""Search, focus, tags, custom ids, reset and trash through the real server over stdio."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent_ls.sessions.store import SessionStore
from tests.e2e.harness import connect

INVALID, EXISTS = -32602, -32014


def _long_session(home: Path, workspace: Path) -> tuple[str, list[str]]:
    """A session of 200 messages; message 20 names the needle."""
    store = SessionStore(workspace, root=home)
    session_id = store.create(name="long").session_id
    entry_ids = []
    with store.writer(session_id) as w:
        for n in range(200):
            role = "user" if n % 2 == 0 else "assistant"
            text = "we chose the flamingo protocol" if n == 20 else f"message {n}"
            content = [{"type": "text", "text": text}]
            entry_ids.append(w.append({"type": "message", "role": role, "content": content})["id"])
    store.close()
    return session_id, entry_ids


async def test_search_then_switch_to_the_hit(workspace: Path, home: Path) -> None:
    session_id, entry_ids = _long_session(home, workspace)
    async with connect([workspace], home) as agent:
        found = await agent.request("agent/session/search", {"query": "flaming"})
        (hit,) = found["hits"]
        assert "nextCursor" not in found
        assert hit["sessionId"] == session_id and hit["sessionName"] == "long"
        assert hit["entryId"] == entry_ids[20] and hit["role"] == "user"
        assert hit["snippet"] == "we chose the flamingo protocol"
        assert hit["highlights"] == [[13, 21]]
        assert hit["workspace"] == str(workspace.resolve())
        switched = await agent.request(
            "agent/session/switch", {"sessionId": session_id, "focusEntryId": hit["entryId"]}
        )
        assert switched["focusEntryId"] == entry_ids[20]
        assert switched["session"]["active"] is True
        ids = [item["entryId"] for item in switched["items"]]
        assert ids == entry_ids[10:] and switched["hasMore"] is True
        plain = await agent.request("agent/session/switch", {"sessionId": session_id})
        assert len(plain["items"]) == 50 and "focusEntryId" not in plain
        everywhere = await agent.request(
            "agent/session/search", {"query": "message", "allWorkspaces": True, "limit": 5}
        )
        assert len(everywhere["hits"]) == 5 and everywhere["nextCursor"]
        odd = await agent.request("agent/session/search", {"query": 'NEAR( "* -'})
        assert odd == {"hits": []}
        err = await agent.error("agent/session/search", {"query": "x", "cursor": "garbage"})
        assert err.code == INVALID  # type: ignore[attr-defined]


async def test_set_metadata_tags_filter_and_touched(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        a = await agent.request("agent/session/new", {"name": "a"})
        b = await agent.request("agent/session/new", {"name": "b"})
        assert a["tags"] == [] and a["metadata"] == {}
        tagged = await agent.request(
            "agent/session/setMetadata",
            {"sessionId": a["sessionId"], "tags": ["bug", "auth"], "metadata": {"ticket": "T-9"}},
        )
        assert tagged["tags"] == ["auth", "bug"] and tagged["metadata"] == {"ticket": "T-9"}
        listed = await agent.request("agent/session/list", {"tags": ["bug"]})
        assert [s["sessionId"] for s in listed["sessions"]] == [a["sessionId"]]
        listed = await agent.request("agent/session/list", {"metadata": {"ticket": "T-9"}})
        assert [s["sessionId"] for s in listed["sessions"]] == [a["sessionId"]]
        everything = await agent.request("agent/session/list", {})
        assert {s["sessionId"] for s in everything["sessions"]} == {
            a["sessionId"],
            b["sessionId"],
        }
        touched = (workspace / "src" / "app.py").as_uri()
        listed = await agent.request("agent/session/list", {"touchedPath": touched})
        assert listed == {"sessions": []}
        err = await agent.error(
            "agent/session/setMetadata", {"sessionId": a["sessionId"], "tags": [" padded"]}
        )
        assert err.code == INVALID and "tags[0]" in str(err)  # type: ignore[attr-defined]
        err = await agent.error(
            "agent/session/setMetadata", {"sessionId": a["sessionId"], "metadata": {"k": 3}}
        )
        assert err.code == INVALID  # type: ignore[attr-defined]


async def test_custom_ids_reset_trash_and_undelete(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        mine = await agent.request("agent/session/new", {"sessionId": "ci-run.7"})
        assert mine["sessionId"] == "ci-run.7" and mine["active"] is True
        err = await agent.error("agent/session/new", {"sessionId": "ci-run.7"})
        assert err.code == EXISTS  # type: ignore[attr-defined]
        assert err.data["kind"] == "session_exists"  # type: ignore[attr-defined]
        err = await agent.error("agent/session/new", {"sessionId": "../etc"})
        assert err.code == INVALID and "sessionId" in str(err)  # type: ignore[attr-defined]
        store = SessionStore(workspace, root=home)
        with store.writer("ci-run.7") as w:
            old = w.append({"type": "message", "role": "user", "content": "first try"})
        reset = await agent.request("agent/session/reset", {"sessionId": "ci-run.7"})
        assert reset["items"] == [] and reset["hasMore"] is False
        assert reset["session"]["active"] is True
        assert store.load("ci-run.7").path(old["id"])[-1]["content"] == "first try"
        store.close()
        assert (await agent.request("agent/session/delete", {"sessionId": "ci-run.7"})) == {}
        trash = await agent.request("agent/session/trash", {})
        (trashed,) = trash["sessions"]
        assert trashed["sessionId"] == "ci-run.7" and trashed["deletedAt"]
        err = await agent.error("agent/session/new", {"sessionId": "ci-run.7"})
        assert err.code == EXISTS  # type: ignore[attr-defined]
        back = await agent.request("agent/session/undelete", {"sessionId": "ci-run.7"})
        assert back["sessionId"] == "ci-run.7"
        assert (await agent.request("agent/session/trash", {})) == {"sessions": []}


async def test_retention_from_initialization_options_runs_at_start(
    tmp_path: Path, home: Path
) -> None:
    kept_dir, swept_dir = tmp_path / "kept", tmp_path / "swept"
    ids = {}
    for folder in (kept_dir, swept_dir):
        folder.mkdir()
        store = SessionStore(folder, root=home)
        ids[folder.name] = store.create(name=folder.name).session_id
        if folder is kept_dir:  # this workspace's own settings say: keep a thousand days
            (store.dir / "settings.json").write_text('{"trashAfterDays": 1000}')
        store.close()
    await asyncio.sleep(0.01)  # times are kept to the millisecond
    options = {"trashAfterDays": 1e-9, "maxStoreBytes": "lots"}
    async with connect([kept_dir, swept_dir], home, options=options) as agent:
        for _ in range(100):
            trash = await agent.request("agent/session/trash", {"allWorkspaces": True})
            if trash["sessions"]:
                break
            await asyncio.sleep(0.1)
        assert [s["sessionId"] for s in trash["sessions"]] == [ids["swept"]]
        kept = await agent.request("agent/session/list", {"workspace": str(kept_dir)})
        assert [s["sessionId"] for s in kept["sessions"]] == [ids["kept"]]
        assert any("maxStoreBytes" in m for m in agent.messages)


async def test_the_server_indexes_the_store_at_start_up_in_a_child(
    workspace: Path, home: Path
) -> None:
    _long_session(home, workspace)
    store = SessionStore(workspace, root=home)
    store.list()  # the list rows exist; nothing is in the full-text index yet
    db = store._index._conn()

    def pending() -> int:
        return db.execute("SELECT count(*) FROM sessions WHERE fts_offset < offset").fetchone()[0]

    assert pending() == 1
    async with connect([workspace], home) as agent:
        for _ in range(300):  # no search was asked for
            if not pending():
                break
            await asyncio.sleep(0.1)
        assert pending() == 0
        assert (
            len((await agent.request("agent/session/search", {"query": "flamingo"}))["hits"]) == 1
        )
    store.close()
