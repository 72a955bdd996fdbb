"""The agent turn against the scripted provider and an in-memory session."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from agent_ls.agent.compaction import maybe_compact
from agent_ls.agent.config import AgentConfig
from agent_ls.agent.conversation import build_messages
from agent_ls.agent.events import (
    DiffContent,
    TextChunk,
    ToolCallStarted,
    ToolCallUpdated,
    UsageReported,
    UserMessage,
)
from agent_ls.agent.host import DirectHost
from agent_ls.agent.loop import run_turn
from agent_ls.agent.permissions import Permissions
from agent_ls.agent.providers.scripted import ScriptedProvider
from agent_ls.agent.providers.turns import load_turns


class MemorySession:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def path(self, leaf: str | None = None) -> list[dict[str, Any]]:
        return list(self.entries)

    def active_path(self) -> list[dict[str, Any]]:
        return list(self.entries)


class MemoryWriter:
    """The slice of SessionWriter the loop uses, kept in memory."""

    def __init__(self) -> None:
        self.session = MemorySession()
        self._ids = itertools.count(1)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        parent = self.session.entries[-1]["id"] if self.session.entries else None
        stored = {**entry, "id": f"e{next(self._ids)}", "parentId": parent, "ts": "t"}
        self.session.entries.append(stored)
        return stored

    def messages(self) -> list[dict[str, Any]]:
        return [e for e in self.session.entries if e["type"] == "message"]


def scripted(*turns: dict) -> ScriptedProvider:
    return ScriptedProvider(load_turns(list(turns)))


def assert_valid(messages: list[dict[str, Any]]) -> None:
    """Alternating roles, user first, every tool_use answered in the next message."""
    assert messages[0]["role"] == "user"
    for before, after in itertools.pairwise(messages):
        assert before["role"] != after["role"]
    for i, message in enumerate(messages):
        asked = {b["id"] for b in message["content"] if b["type"] == "tool_use"}
        if asked:
            answered = {
                b["tool_use_id"] for b in messages[i + 1]["content"] if b["type"] == "tool_result"
            }
            assert asked == answered


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    return root


async def test_text_turn_streams_and_stores(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted(
        {"content": [{"type": "text", "text": "Hello from the model!"}], "chunk_size": 4}
    )
    result = await run_turn(provider, writer, "hi", host, AgentConfig())
    assert result.stop_reason == "end_turn" and result.error is None
    assert isinstance(host.events[0], UserMessage)
    chunks = [e.text for e in host.events if isinstance(e, TextChunk)]
    assert len(chunks) > 3 and "".join(chunks) == "Hello from the model!"
    assert any(isinstance(e, UsageReported) for e in host.events)
    roles = [m["role"] for m in writer.messages()]
    assert roles == ["user", "assistant"]
    assert writer.messages()[1]["stopReason"] == "end_turn"
    assert result.entry_id == writer.messages()[1]["id"]
    assert result.usage["output_tokens"] > 0


async def test_tool_calls_run_in_order_and_results_go_back(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted(
        {
            "content": [
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a.py"}},
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "edit_file",
                    "input": {"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"},
                },
            ],
            "chunk_size": 3,
        },
        {"content": [{"type": "text", "text": "Done."}]},
    )
    result = await run_turn(provider, writer, "bump x", host, AgentConfig())
    assert result.stop_reason == "end_turn"
    assert (workspace / "a.py").read_text() == "x = 2\n"
    started = [e for e in host.events if isinstance(e, ToolCallStarted)]
    assert [c.kind for c in started] == ["read", "edit"]
    assert started[0].raw_input == {"path": "a.py"}
    updates = [(e.tool_call_id, e.status) for e in host.events if isinstance(e, ToolCallUpdated)]
    assert updates == [
        ("t1", "in_progress"),
        ("t1", "completed"),
        ("t2", "in_progress"),
        ("t2", "completed"),
    ]
    diff = next(
        e
        for e in host.events
        if isinstance(e, ToolCallUpdated) and e.content and e.tool_call_id == "t2"
    )
    assert diff.content == [DiffContent(str(workspace / "a.py"), "x = 1\n", "x = 2\n")]
    second = provider.requests[1].messages
    assert_valid(second)
    results = second[-1]["content"]
    assert "1\tx = 1" in results[0]["content"]
    assert [m["role"] for m in writer.messages()] == [
        "user",
        "assistant",
        "tool_result",
        "assistant",
    ]


async def test_tool_failure_goes_back_to_the_model(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "read_file",
                    "input": {"path": "../etc/passwd"},
                }
            ]
        },
        {"content": [{"type": "text", "text": "I cannot."}]},
    )
    result = await run_turn(provider, writer, "read it", host, AgentConfig())
    assert result.stop_reason == "end_turn"
    tool_result = provider.requests[1].messages[-1]["content"][0]
    assert tool_result["is_error"] is True and "outside the workspace" in tool_result["content"]


@pytest.mark.parametrize("allowed", [True, False])
async def test_run_command_asks_permission(workspace: Path, allowed: bool) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace], permission=allowed)
    provider = scripted(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "run_command",
                    "input": {"command": "touch made"},
                }
            ]
        },
        {"content": [{"type": "text", "text": "ok"}]},
    )
    await run_turn(provider, writer, "make it", host, AgentConfig())
    assert [c.tool_call_id for c in host.permission_requests] == ["t1"]
    assert (workspace / "made").exists() is allowed
    result = provider.requests[1].messages[-1]["content"][0]
    assert result.get("is_error", False) is not allowed
    if not allowed:
        assert "declined" in result["content"]


async def test_permission_policy_allow_and_deny_skip_the_question(workspace: Path) -> None:
    for decision, expected in (("allow", True), ("deny", False)):
        host = DirectHost([workspace], permission=False)
        provider = scripted(
            {
                "content": [
                    {"type": "tool_use", "name": "run_command", "input": {"command": "echo hi"}}
                ]
            },
        )
        policy = Permissions({"run_command": decision})
        await run_turn(provider, MemoryWriter(), "go", host, AgentConfig(), permissions=policy)
        assert host.permission_requests == []
        result = provider.requests[1].messages[-1]["content"][0]
        assert result.get("is_error", False) is not expected


async def test_allow_always_is_remembered(workspace: Path) -> None:
    permissions = Permissions()

    def answer(call: ToolCallStarted) -> bool:
        permissions.remember(call, allow=True)
        return True

    host = DirectHost([workspace], permission=answer)
    tool = {"type": "tool_use", "name": "run_command", "input": {"command": "true"}}
    provider = scripted(
        {"content": [tool]}, {"content": [{"type": "text", "text": "a"}]}, {"content": [tool]}
    )
    writer = MemoryWriter()
    await run_turn(provider, writer, "one", host, AgentConfig(), permissions=permissions)
    await run_turn(provider, writer, "two", host, AgentConfig(), permissions=permissions)
    assert len(host.permission_requests) == 1


async def test_cancel_mid_stream_keeps_partial_text(workspace: Path) -> None:
    writer = MemoryWriter()
    seen = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, TextChunk):
            seen.set()

    host = DirectHost([workspace], on_event=on_event)
    provider = scripted(
        {"content": [{"type": "text", "text": "word " * 200}], "chunk_size": 5, "delay_ms": 5}
    )
    task = asyncio.create_task(run_turn(provider, writer, "talk", host, AgentConfig()))
    await seen.wait()
    await asyncio.sleep(0.03)
    task.cancel()
    result = await task
    assert result.stop_reason == "cancelled"
    partial = writer.messages()[-1]
    assert partial["role"] == "assistant" and partial["stopReason"] == "error"
    assert partial["content"][0]["text"].startswith("word word")
    assert len(partial["content"][0]["text"]) < 1000
    assert result.entry_id == partial["id"]
    follow = scripted()
    again = await run_turn(follow, writer, "again", host, AgentConfig())
    assert again.stop_reason == "end_turn"
    assert_valid(follow.requests[0].messages)


async def test_cancel_mid_tool_closes_the_dangling_calls(workspace: Path) -> None:
    writer = MemoryWriter()
    running = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, ToolCallUpdated) and event.status == "in_progress":
            running.set()

    host = DirectHost([workspace], on_event=on_event)
    provider = scripted(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "slow",
                    "name": "run_command",
                    "input": {"command": "sleep 30"},
                },
                {"type": "tool_use", "id": "next", "name": "read_file", "input": {"path": "a.py"}},
            ]
        }
    )
    config = AgentConfig(permissions={"execute": "allow"})
    task = asyncio.create_task(run_turn(provider, writer, "wait", host, config))
    await asyncio.wait_for(running.wait(), 5)
    started = asyncio.get_running_loop().time()
    task.cancel()
    result = await task
    assert asyncio.get_running_loop().time() - started < 2
    assert result.stop_reason == "cancelled"
    results = writer.messages()[-1]
    assert results["role"] == "tool_result"
    assert [(r["tool_use_id"], r["content"]) for r in results["content"]] == [
        ("slow", "cancelled by user"),
        ("next", "cancelled by user"),
    ]
    failed = [
        e.tool_call_id
        for e in host.events
        if isinstance(e, ToolCallUpdated) and e.status == "failed"
    ]
    assert failed == ["slow", "next"]
    assert_valid(build_messages(writer.session.path()) + [{"role": "assistant", "content": []}][:0])


async def test_provider_error_keeps_streamed_text(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted(
        {
            "content": [
                {"type": "text", "text": "partial answer that goes on"},
                {"type": "tool_use", "id": "t9", "name": "read_file", "input": {"path": "a.py"}},
            ],
            "chunk_size": 4,
            "cut_after": 4,
        }
    )
    result = await run_turn(provider, writer, "go", host, AgentConfig())
    assert result.stop_reason == "error" and "cut" in (result.error or "")
    last = writer.messages()[-1]
    assert last["content"] == [{"type": "text", "text": "partial answer t"}]
    assert not any(isinstance(e, ToolCallStarted) for e in host.events)


async def test_error_before_anything_streamed_stores_nothing(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted({"error": {"status": 529}})
    result = await run_turn(provider, writer, "go", host, AgentConfig())
    assert result.stop_reason == "error" and "overloaded" in (result.error or "")
    assert [m["role"] for m in writer.messages()] == ["user"]
    follow = scripted()
    await run_turn(follow, writer, "again", host, AgentConfig())
    assert follow.requests[0].messages == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "go"}, {"type": "text", "text": "again"}],
        }
    ]


async def test_max_tokens_with_a_cut_tool_call_answers_it(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    provider = scripted(
        {
            "content": [
                {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a.py"}}
            ],
            "stop_reason": "max_tokens",
        }
    )
    result = await run_turn(provider, writer, "go", host, AgentConfig())
    assert result.stop_reason == "max_tokens"
    assert writer.messages()[-1]["role"] == "tool_result"
    assert (workspace / "a.py").read_text() == "x = 1\n"


def test_conversation_repairs_a_crashed_session() -> None:
    path = [
        {"type": "message", "id": "1", "role": "user", "content": [{"type": "text", "text": "hi"}]},
        {
            "type": "message",
            "id": "2",
            "role": "assistant",
            "content": [
                {"type": "text", "text": ""},
                {"type": "tool_use", "id": "x", "name": "grep", "input": {}},
            ],
        },
        {"type": "session_info", "id": "3", "name": "n"},
        {"type": "message", "id": "4", "role": "user", "content": "next"},
        {
            "type": "message",
            "id": "5",
            "role": "tool_result",
            "content": [{"type": "tool_result", "tool_use_id": "zz"}],
        },
    ]
    messages = build_messages(path)
    assert_valid(messages)
    assert messages[1]["content"] == [{"type": "tool_use", "id": "x", "name": "grep", "input": {}}]
    assert messages[2]["content"][0]["tool_use_id"] == "x"
    assert messages[2]["content"][1] == {"type": "text", "text": "next"}


async def test_compaction_summarizes_older_turns(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    config = AgentConfig(context_window=4000, compaction_threshold=0.5)
    provider = scripted()
    for i in range(6):
        await run_turn(provider, writer, f"prompt {i} " + "padding " * 150, host, config)
    compactions = [e for e in writer.session.entries if e["type"] == "compaction"]
    assert compactions, "a long session is compacted"
    summary_requests = [r for r in provider.requests if not r.tools]
    assert "Summarize the conversation" in summary_requests[0].messages[-1]["content"][-1]["text"]
    last = provider.requests[-1].messages
    assert_valid(last)
    assert "compacted" in last[0]["content"][0]["text"]
    assert "prompt 5" in last[-1]["content"][-1]["text"]
    assert len(last) < 2 * 6


async def test_compaction_failure_leaves_the_session_alone(workspace: Path) -> None:
    writer = MemoryWriter()
    for i in range(3):
        writer.append(
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "text", "text": f"q{i} " * 500}],
            }
        )
        writer.append(
            {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "a"}]}
        )
    provider = scripted({"error": {"status": 500}})
    assert await maybe_compact(provider, writer, AgentConfig(), force=True) is None
    assert all(e["type"] == "message" for e in writer.session.entries)


async def test_the_real_session_store_works_as_the_writer(workspace: Path, tmp_path: Path) -> None:
    from agent_ls.sessions.store import SessionStore

    store = SessionStore(workspace, root=tmp_path / "store")
    info = store.create()
    provider = scripted({"content": [{"type": "tool_use", "name": "list_files", "input": {}}]})
    with store.writer(info.session_id) as writer:
        result = await run_turn(provider, writer, "list", DirectHost([workspace]), AgentConfig())
    assert result.stop_reason == "end_turn"
    roles = [e["role"] for e in store.load(info.session_id).path() if e["type"] == "message"]
    assert roles == ["user", "assistant", "tool_result", "assistant"]


async def test_the_model_call_limit_ends_the_turn_with_its_work_kept(workspace: Path) -> None:
    writer, host = MemoryWriter(), DirectHost([workspace])
    read = {"type": "tool_use", "id": "r", "name": "read_file", "input": {"path": "a.py"}}
    provider = scripted({"content": [read]}, {"content": [read]}, {"content": [read]})
    config = AgentConfig(max_iterations=2)
    result = await run_turn(provider, writer, "loop", host, config)
    assert result.stop_reason == "max_turn_requests"
    assert result.error is not None and 'send "continue"' in result.error
    writer.append({"type": "turn_end", "stopReason": result.stop_reason, "error": result.error})
    writer.append({"type": "message", "role": "user", "content": "continue"})
    messages = build_messages(writer.session.active_path())
    assert_valid(messages)
    assert messages[-2]["content"][0]["text"].startswith("(The turn stopped here: it reached")
    assert sum(1 for m in messages if m["role"] == "assistant") == 3  # the turn's work is kept
