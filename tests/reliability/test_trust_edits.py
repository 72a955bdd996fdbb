"""Edits to files open in the editor: a refused edit is not written and the model is told; an
edit that lands without the editor echoing it (no applyEdit support, didChange late or never,
`applied: true` after a cancel) is in the checkpoint as the server computed it, and later reads
in the turn see it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.e2e.harness import Agent, connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import raw_stall_probe, stall_probe
from tests.reliability.support import FAKE_KEY, check_file, raw_server, record, session_files

pytestmark = pytest.mark.reliability

OLD, NEW = "x = 1\n", "x = 2\n"


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": name, "input": tool_input}]}


def text(reply: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": reply}]}


TURN = (tool("write_file", path="code.py", content=NEW), tool("read_file", path="code.py"))


def sha(data: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest()


def checkpoints(home: Path) -> list[dict[str, Any]]:
    return [e for e in check_file(session_files(home)[0]) if e["type"] == "checkpoint"]


def tool_results(api: FakeAnthropic) -> list[str]:
    """What went back to the model after each tool call, in order."""
    out = []
    for request in api.requests[1:]:
        last = request["body"]["messages"][-1]
        out += [json.dumps(block) for block in last["content"] if block["type"] == "tool_result"]
    return out


def open_doc(agent: Agent, path: Path) -> None:
    agent.client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=1, text=OLD
            )
        )
    )


@pytest.fixture
def target(tmp_path: Path) -> Path:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "code.py").write_text(OLD)
    return workspace / "code.py"


async def test_a_refused_edit_is_not_written(target: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeAnthropic() as api:
        api.enqueue(*TURN, text("done"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([target.parent], home, env=env) as agent:

            @agent.client.feature(lsp.WORKSPACE_APPLY_EDIT)
            def refuse(_: Any) -> lsp.ApplyWorkspaceEditResult:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="read-only")

            open_doc(agent, target)
            result = await agent.request("agent/session/prompt", {"prompt": "edit"}, 60)
        results = tool_results(api)
    assert result["stopReason"] == "end_turn" and "checkpointId" not in result
    assert target.read_text() == OLD
    assert '"is_error": true' in results[0] and "refused it (read-only)" in results[0]
    assert "x = 1" in results[1]  # the read sees the unchanged text
    assert checkpoints(home) == []


async def test_edit_without_did_change_is_checkpointed_as_computed(
    target: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with FakeAnthropic() as api:
        api.enqueue(*TURN, text("done"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([target.parent], home, env=env) as agent:

            @agent.client.feature(lsp.WORKSPACE_APPLY_EDIT)
            def applied_but_silent(_: Any) -> lsp.ApplyWorkspaceEditResult:
                return lsp.ApplyWorkspaceEditResult(applied=True)  # and no didChange, ever

            open_doc(agent, target)
            async with stall_probe(agent) as stall:
                result = await agent.request("agent/session/prompt", {"prompt": "edit"}, 60)
        results = tool_results(api)
    assert result["stopReason"] == "end_turn"
    assert "x = 2" in results[1]  # the read in the same turn sees the edit
    [entry] = checkpoints(home)
    assert [(f["before"], f["after"]) for f in entry["files"]] == [(sha(OLD), sha(NEW))]
    record("stall: edit of an open file, no didChange (ms)", round(stall.longest_ms))


async def test_applied_after_cancel_is_checkpointed(target: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeAnthropic() as api:
        api.enqueue(*TURN, text("done"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([target.parent], home, env=env) as agent:
            asked = asyncio.Event()

            @agent.client.feature(lsp.WORKSPACE_APPLY_EDIT)
            async def slow(_: Any) -> lsp.ApplyWorkspaceEditResult:
                asked.set()
                await asyncio.sleep(0.2)  # the user cancels while the editor decides
                return lsp.ApplyWorkspaceEditResult(applied=True)

            open_doc(agent, target)
            sid = (await agent.request("agent/session/new", {}))["sessionId"]
            prompt = asyncio.ensure_future(
                agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "edit"}, 60)
            )
            await asyncio.wait_for(asked.wait(), 30)
            agent.client.protocol.notify("agent/session/cancel", {"sessionId": sid})
            result = await prompt
    assert result["stopReason"] == "cancelled"
    [entry] = checkpoints(home)
    assert [(f["before"], f["after"]) for f in entry["files"]] == [(sha(OLD), sha(NEW))]
    assert result["checkpointId"].endswith(entry["id"])


def test_client_without_apply_edit(target: Path, tmp_path: Path) -> None:
    """The raw client declares no capabilities: the edit goes to disk, behind the buffer."""
    home = tmp_path / "home"
    with FakeAnthropic() as api:
        api.enqueue(*TURN, text("done"))
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        with raw_server(home, target.parent, env) as server:
            document = {"uri": target.as_uri(), "languageId": "python", "version": 1, "text": OLD}
            server.send("textDocument/didOpen", {"textDocument": document}, notify=True)
            with raw_stall_probe(server) as stall:
                reply = server.call("agent/session/prompt", {"prompt": "edit"}, 60)
        results = tool_results(api)
    assert reply["result"]["stopReason"] == "end_turn"
    assert target.read_text() == NEW
    assert "x = 2" in results[1]
    [entry] = checkpoints(home)
    assert [(f["before"], f["after"]) for f in entry["files"]] == [(sha(OLD), sha(NEW))]
    record("stall: edit of an open file, client without applyEdit (ms)", round(stall.longest_ms))
