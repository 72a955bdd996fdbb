"""agent/session/* over real stdio LSP: every method, both error paths, two windows."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from agent_ls.sessions.store import SessionStore
from tests.e2e.harness import connect

NOT_FOUND, BUSY, INVALID, EXISTS = -32010, -32011, -32602, -32014


async def test_initialize_advertises_agent_capabilities(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        caps = agent.initialize_result.capabilities.experimental["agent"]
        assert caps["version"] == 1
        assert caps["sessions"] == {
            "fork": True,
            "rewind": True,
            "delete": True,
            "rename": True,
            "search": True,
        }
        assert agent.initialize_result.server_info.name == "agent-ls"
        assert (await agent.request("agent/session/list", {})) == {"sessions": []}


async def test_new_list_rename_fork_delete(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        first = await agent.request("agent/session/new", {"name": "first"})
        assert first["name"] == "first" and first["active"] is True
        assert first["workspace"] == str(workspace.resolve())
        second = await agent.request("agent/session/new", {})
        listed = await agent.request("agent/session/list", {})
        assert [s["sessionId"] for s in listed["sessions"]] == [
            second["sessionId"],
            first["sessionId"],
        ]
        renamed = await agent.request(
            "agent/session/rename", {"sessionId": second["sessionId"], "name": "renamed"}
        )
        assert renamed["name"] == "renamed"
        fork = await agent.request("agent/session/fork", {"sessionId": first["sessionId"]})
        assert fork["parentSessionId"] == first["sessionId"]
        assert await agent.request("agent/session/delete", {"sessionId": fork["sessionId"]}) == {}
        ids = [s["sessionId"] for s in (await agent.request("agent/session/list", {}))["sessions"]]
        assert fork["sessionId"] not in ids and len(ids) == 2
        query = await agent.request("agent/session/list", {"query": "RENAMED"})
        assert [s["sessionId"] for s in query["sessions"]] == [second["sessionId"]]


async def test_paging_with_cursor(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        made = [(await agent.request("agent/session/new", {}))["sessionId"] for _ in range(5)]
        page = await agent.request("agent/session/list", {"limit": 2})
        seen = [s["sessionId"] for s in page["sessions"]]
        while "nextCursor" in page:
            page = await agent.request(
                "agent/session/list", {"limit": 2, "cursor": page["nextCursor"]}
            )
            seen += [s["sessionId"] for s in page["sessions"]]
        assert seen == list(reversed(made))


def _write_session(home: Path, workspace: Path, messages: int) -> str:
    """A session written straight through the store, as another tool would leave it."""
    store = SessionStore(workspace, root=home)
    info = store.create(name="big")
    with store.writer(info.session_id) as writer:
        for i in range(messages):
            role = "user" if i % 2 == 0 else "assistant"
            writer.append(
                {"type": "message", "role": role, "content": [{"type": "text", "text": f"m{i}"}]}
            )
    return info.session_id


async def test_switch_history_and_resume(workspace: Path, home: Path) -> None:
    session_id = _write_session(home, workspace, 5000)
    async with connect([workspace], home) as agent:
        switched = await agent.request("agent/session/switch", {"sessionId": session_id})
        assert switched["session"]["active"] is True
        assert switched["hasMore"] is True
        items = switched["items"]
        assert len(items) == 50
        assert items[-1]["content"][0]["text"] == "m4999"
        assert items[0]["kind"] == "user" or items[0]["kind"] == "assistant"
        older = await agent.request(
            "agent/session/history",
            {"sessionId": session_id, "before": items[0]["entryId"], "limit": 10},
        )
        assert [i["content"][0]["text"] for i in older["items"]] == [
            f"m{n}" for n in range(4940, 4950)
        ]
        recent = await agent.request("agent/session/resumeRecent", {})
        assert recent["session"]["sessionId"] == session_id


async def test_resume_recent_creates_when_empty(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        recent = await agent.request("agent/session/resumeRecent", {})
        assert recent["items"] == [] and recent["hasMore"] is False
        listed = await agent.request("agent/session/list", {})
        assert [s["sessionId"] for s in listed["sessions"]] == [recent["session"]["sessionId"]]


async def test_unknown_session_and_bad_params(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        err = await agent.error("agent/session/switch", {"sessionId": "nope"})
        assert err.code == NOT_FOUND and err.data["kind"] == "session_not_found"  # type: ignore[attr-defined]
        err = await agent.error("agent/session/switch", {})
        assert err.code == INVALID and "sessionId" in str(err)
        err = await agent.error("agent/session/rename", {"sessionId": "x", "name": 3})
        assert err.code == INVALID and "name" in str(err)


async def test_multi_root_folders_have_their_own_sessions(tmp_path: Path, home: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    async with connect([a, b], home) as agent:
        in_a = await agent.request("agent/session/new", {})
        in_b = await agent.request("agent/session/new", {"workspace": b.as_uri()})
        assert in_b["workspace"] == str(b.resolve())
        list_a = await agent.request("agent/session/list", {})
        list_b = await agent.request("agent/session/list", {"workspace": str(b)})
        assert [s["sessionId"] for s in list_a["sessions"]] == [in_a["sessionId"]]
        assert [s["sessionId"] for s in list_b["sessions"]] == [in_b["sessionId"]]
        every = await agent.request("agent/session/list", {"allWorkspaces": True})
        assert {s["sessionId"] for s in every["sessions"]} == {in_a["sessionId"], in_b["sessionId"]}
        # a session id from folder b works without naming the folder
        switched = await agent.request("agent/session/switch", {"sessionId": in_b["sessionId"]})
        assert switched["session"]["workspace"] == str(b.resolve())
        err = await agent.error("agent/session/new", {"workspace": str(tmp_path / "elsewhere")})
        assert err.code == INVALID


async def test_two_clients_see_each_other(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as one, connect([workspace], home) as two:
        made = await one.request("agent/session/new", {"name": "from one"})
        listed = await two.request("agent/session/list", {})
        assert [s["sessionId"] for s in listed["sessions"]] == [made["sessionId"]]
        await _wait_for(lambda: two.list_changed > 0)
        await two.request("agent/session/rename", {"sessionId": made["sessionId"], "name": "two"})
        await _wait_for(lambda: one.list_changed > 0)
        again = await one.request("agent/session/list", {})
        assert again["sessions"][0]["name"] == "two"


async def test_bad_initialization_options_fall_back(workspace: Path, home: Path) -> None:
    async with connect([workspace], home, options={"sessionDir": 5, "permissionUi": "yes"}) as a:
        await _wait_for(lambda: len(a.messages) >= 2)
        assert any("sessionDir" in m for m in a.messages)
        assert (await a.request("agent/session/list", {})) == {"sessions": []}


async def _wait_for(predicate: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


MALFORMED = [
    None,
    [],
    "text",
    42,
    {"sessionId": None},
    {"sessionId": 12},
    {"sessionId": "../../etc/passwd"},
    {"sessionId": "x" * 65},
    {"sessionId": ["a"]},
    {"sessionId": {"nested": {"deep": True}}},
    {"limit": -1},
    {"limit": "many"},
    {"limit": 10**9},
    {"cursor": 3},
    {"name": ""},
    {"name": "x" * 1000},
    {"entryId": 7, "sessionId": "abc"},
    {"before": {}, "sessionId": "abc"},
    {"workspace": 5},
    {"workspace": "/definitely/not/a/folder"},
    {"allWorkspaces": "yes"},
    {"query": ["a"]},
    {"prompt": ""},
    {"prompt": []},
    {"prompt": [{"type": "image"}]},
    {"prompt": 5},
    {"checkpointId": "nope"},
    {"checkpointId": "a:b", "scope": "everything"},
    {"\u0000": "\udcff"},
]

METHODS = [
    "agent/session/list",
    "agent/session/new",
    "agent/session/switch",
    "agent/session/resumeRecent",
    "agent/session/history",
    "agent/session/rename",
    "agent/session/delete",
    "agent/session/fork",
    "agent/session/search",
    "agent/session/setMetadata",
    "agent/session/reset",
    "agent/session/trash",
    "agent/session/undelete",
]


async def test_malformed_battery_every_request_answers(workspace: Path, home: Path) -> None:
    async with connect([workspace], home) as agent:
        session = await agent.request("agent/session/new", {"name": "survivor"})
        for method in METHODS:
            for params in MALFORMED:
                try:
                    await agent.request(method, params, timeout=1.0)
                except TimeoutError:
                    raise AssertionError(f"{method} {json.dumps(params)} never answered") from None
                except Exception as exc:
                    code = getattr(exc, "code", None)
                    # -32014: `new {sessionId: "abc"}` twice (the second names a taken id)
                    assert code in (INVALID, NOT_FOUND, BUSY, EXISTS), (method, params, exc)
        listed = await agent.request("agent/session/list", {})
        assert session["sessionId"] in [s["sessionId"] for s in listed["sessions"]]


async def test_folders_added_and_removed_while_running(tmp_path: Path, home: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    async with connect([a], home) as agent:
        err = await agent.error("agent/session/new", {"workspace": str(b)})
        assert err.code == INVALID
        folder = lsp.WorkspaceFolder(uri=b.as_uri(), name="b")
        agent.client.workspace_did_change_workspace_folders(
            lsp.DidChangeWorkspaceFoldersParams(
                event=lsp.WorkspaceFoldersChangeEvent(added=[folder], removed=[])
            )
        )
        await _wait_for_ok(agent, {"workspace": str(b)})
        agent.client.workspace_did_change_workspace_folders(
            lsp.DidChangeWorkspaceFoldersParams(
                event=lsp.WorkspaceFoldersChangeEvent(
                    added=[], removed=[lsp.WorkspaceFolder(uri=a.as_uri(), name="a")]
                )
            )
        )
        listed = await agent.request("agent/session/list", {})
        assert [s["workspace"] for s in listed["sessions"]] == [str(b.resolve())]


async def _wait_for_ok(agent: Any, params: dict[str, Any]) -> None:
    for _ in range(50):
        try:
            await agent.request("agent/session/new", params)
            return
        except Exception:
            await asyncio.sleep(0.05)
    raise AssertionError("the added folder was never served")
