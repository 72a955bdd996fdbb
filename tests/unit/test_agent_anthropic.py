"""The Anthropic provider: the real SDK against the local fake API (no network, no key)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.events import TextChunk, ToolCallStarted, ToolCallUpdated
from agent_ls.agent.host import DirectHost
from agent_ls.agent.loop import run_turn
from agent_ls.agent.providers.anthropic import AnthropicProvider
from agent_ls.agent.providers.base import MessageDone, ModelRequest, ProviderFailure, TextDelta

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fakes.anthropic_server import FakeAnthropic
from tests.unit.test_agent_loop import MemoryWriter, assert_valid

KEY = "sk-ant-test-SECRET-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.py").write_text("print('hi')\n")
    return root


def config_for(fake: FakeAnthropic, **overrides: object) -> AgentConfig:
    options: dict = {"api_key": KEY, "base_url": fake.base_url, "max_retries": 0, **overrides}
    return AgentConfig(**options)


async def collect(provider: AnthropicProvider, request: ModelRequest) -> list[object]:
    return [event async for event in provider.stream(request)]


def request(text: str = "hi") -> ModelRequest:
    return ModelRequest(
        model="claude-test", system="sys", messages=[{"role": "user", "content": text}]
    )


async def test_text_streams_through_the_sdk(fake: FakeAnthropic) -> None:
    fake.enqueue({"content": [{"type": "text", "text": "streamed reply"}], "chunk_size": 3})
    events = await collect(AnthropicProvider(config_for(fake)), request())
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 5 and "".join(deltas) == "streamed reply"
    done = events[-1]
    assert isinstance(done, MessageDone) and done.stop_reason == "end_turn"
    assert done.content == [{"type": "text", "text": "streamed reply"}]
    assert done.usage["output_tokens"] > 0


async def test_cache_control_and_headers(fake: FakeAnthropic) -> None:
    provider = AnthropicProvider(config_for(fake))
    req = ModelRequest(
        model="m",
        system="system prompt",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "a"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "b"}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}],
            },
        ],
        tools=[
            {"name": "x", "input_schema": {"type": "object"}},
            {"name": "y", "input_schema": {"type": "object"}},
        ],
    )
    await collect(provider, req)
    body = fake.requests[0]["body"]
    assert body["stream"] is True
    assert body["system"] == [
        {"type": "text", "text": "system prompt", "cache_control": {"type": "ephemeral"}}
    ]
    assert "cache_control" not in body["tools"][0] and body["tools"][1]["cache_control"] == {
        "type": "ephemeral"
    }
    assert "cache_control" not in body["messages"][0]["content"][0]
    assert body["messages"][2]["content"][1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in body["messages"][2]["content"][0]
    assert "cache_control" not in req.messages[2]["content"][1], (
        "the caller's messages are not changed"
    )
    assert "authorization" not in fake.requests[0]["headers"]


async def test_two_turn_session_sends_the_history(fake: FakeAnthropic, workspace: Path) -> None:
    fake.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "read_file",
                    "input": {"path": "main.py"},
                }
            ]
        },
        {"content": [{"type": "text", "text": "It prints hi."}]},
        {"content": [{"type": "text", "text": "Second answer."}]},
    )
    writer, host = MemoryWriter(), DirectHost([workspace])
    config = config_for(fake)
    provider = AnthropicProvider(config)
    first = await run_turn(provider, writer, "what does main.py do?", host, config)
    second = await run_turn(provider, writer, "and then?", host, config)
    assert (first.stop_reason, second.stop_reason) == ("end_turn", "end_turn")
    messages = fake.requests[-1]["body"]["messages"]
    assert_valid(messages)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[0]["content"][0]["text"] == "what does main.py do?"
    assert messages[1]["content"][0]["id"] == "toolu_1"
    assert "print('hi')" in messages[2]["content"][0]["content"]
    assert messages[3]["content"] == [{"type": "text", "text": "It prints hi."}]
    assert messages[4]["content"][0]["text"] == "and then?"
    assert messages[4]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert fake.requests[-1]["body"]["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "workspace" in fake.requests[-1]["body"]["system"][0]["text"]


async def test_several_tool_calls_with_input_split_across_many_deltas(
    fake: FakeAnthropic, workspace: Path
) -> None:
    (workspace / "b.txt").write_text("bee\n")
    fake.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "read_file",
                    "input": {"path": "main.py", "limit": 5},
                },
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "grep",
                    "input": {"pattern": "b+e", "glob": "*.txt"},
                },
                {"type": "tool_use", "id": "t3", "name": "list_files", "input": {}},
            ],
            "chunk_size": 1,
        }
    )
    writer, host = MemoryWriter(), DirectHost([workspace])
    result = await run_turn(
        AnthropicProvider(config_for(fake)), writer, "look", host, config_for(fake)
    )
    assert result.stop_reason == "end_turn"
    started = [e for e in host.events if isinstance(e, ToolCallStarted)]
    assert [s.raw_input for s in started] == [
        {"path": "main.py", "limit": 5},
        {"pattern": "b+e", "glob": "*.txt"},
        {},
    ]
    results = fake.requests[1]["body"]["messages"][-1]["content"]
    assert [r["tool_use_id"] for r in results] == ["t1", "t2", "t3"]
    assert results[1]["content"] == "b.txt:1:bee"


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        ({"status": 401, "message": "invalid x-api-key"}, "auth", "rejected"),
        ({"status": 429, "retry_after": 7}, "rate_limit", "Retry after 7 s"),
        ({"status": 529, "message": "Overloaded"}, "overloaded", "overloaded"),
        ({"status": 500}, "other", "500"),
    ],
)
async def test_errors_before_the_stream(
    fake: FakeAnthropic, error: dict, kind: str, words: str
) -> None:
    fake.enqueue({"error": error})
    events = await collect(AnthropicProvider(config_for(fake)), request())
    assert len(events) == 1
    failure = events[0]
    assert isinstance(failure, ProviderFailure) and failure.kind == kind
    assert words in failure.message and KEY not in failure.message
    if kind == "rate_limit":
        assert failure.retry_after == 7


async def test_sdk_retries_honour_retry_after_before_the_stream(fake: FakeAnthropic) -> None:
    fake.enqueue(
        {"error": {"status": 429, "retry_after": 0.05}},
        {"content": [{"type": "text", "text": "ok"}]},
    )
    started = time.monotonic()
    events = await collect(AnthropicProvider(config_for(fake, max_retries=1)), request())
    assert isinstance(events[-1], MessageDone)
    assert len(fake.requests) == 2 and time.monotonic() - started < 2


async def test_stream_cut_midway_keeps_what_streamed(fake: FakeAnthropic, workspace: Path) -> None:
    fake.enqueue(
        {"content": [{"type": "text", "text": "abcdefghij" * 5}], "chunk_size": 10, "cut_after": 2}
    )
    writer, host = MemoryWriter(), DirectHost([workspace])
    result = await run_turn(
        AnthropicProvider(config_for(fake, max_retries=2)), writer, "go", host, config_for(fake)
    )
    assert result.stop_reason == "error" and "dropped" in (result.error or "")
    assert len(fake.requests) == 1, "no retry once content has streamed"
    assert writer.messages()[-1]["content"] == [{"type": "text", "text": "abcdefghij" * 2}]


async def test_no_key_says_how_to_set_one(workspace: Path) -> None:
    config = AgentConfig(api_key=None, base_url=None)
    writer = MemoryWriter()
    result = await run_turn(
        AnthropicProvider(config), writer, "hi", DirectHost([workspace]), config
    )
    assert result.stop_reason == "error"
    assert "ANTHROPIC_API_KEY" in (result.error or "") and "ANTHROPIC_BASE_URL" in (
        result.error or ""
    )


async def test_unreachable_server_names_the_url() -> None:
    config = AgentConfig(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    events = await collect(AnthropicProvider(config), request())
    failure = events[-1]
    assert isinstance(failure, ProviderFailure) and failure.kind == "network"
    assert "http://127.0.0.1:9" in failure.message and KEY not in failure.message


async def test_cancel_mid_stream_closes_the_connection(
    fake: FakeAnthropic, workspace: Path
) -> None:
    fake.enqueue(
        {"content": [{"type": "text", "text": "x" * 2000}], "chunk_size": 2, "delay_ms": 5}
    )
    seen = asyncio.Event()
    host = DirectHost(
        [workspace], on_event=lambda e: seen.set() if isinstance(e, TextChunk) else None
    )
    writer = MemoryWriter()
    config = config_for(fake)
    task = asyncio.create_task(run_turn(AnthropicProvider(config), writer, "go", host, config))
    await asyncio.wait_for(seen.wait(), 5)
    task.cancel()
    result = await task
    assert result.stop_reason == "cancelled"
    kept = writer.messages()[-1]["content"][0]["text"]
    assert 0 < len(kept) < 2000
    for _ in range(100):
        if fake.requests[0]["outcome"] != "pending":
            break
        await asyncio.sleep(0.02)
    assert fake.requests[0]["outcome"] == "client_closed"


async def test_cancel_mid_tool_then_prompt_again(fake: FakeAnthropic, workspace: Path) -> None:
    fake.enqueue(
        {
            "content": [
                {
                    "type": "tool_use",
                    "id": "slow",
                    "name": "run_command",
                    "input": {"command": "sleep 20"},
                }
            ]
        }
    )
    running = asyncio.Event()
    host = DirectHost(
        [workspace],
        on_event=lambda e: (
            running.set() if isinstance(e, ToolCallUpdated) and e.status == "in_progress" else None
        ),
    )
    writer, config = MemoryWriter(), config_for(fake)
    provider = AnthropicProvider(config)
    task = asyncio.create_task(run_turn(provider, writer, "wait", host, config))
    await asyncio.wait_for(running.wait(), 5)
    task.cancel()
    assert (await task).stop_reason == "cancelled"
    again = await run_turn(provider, writer, "again", host, config)
    assert again.stop_reason == "end_turn"
    messages = fake.requests[-1]["body"]["messages"]
    assert_valid(messages)
    assert messages[-1]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "slow",
        "content": "cancelled by user",
        "is_error": True,
    }


async def test_compaction_summary_uses_a_non_streaming_request(fake: FakeAnthropic) -> None:
    fake.enqueue({"content": [{"type": "text", "text": "the summary"}]})
    provider = AnthropicProvider(config_for(fake))
    assert await provider.complete(request("summarize")) == "the summary"
    assert "stream" not in fake.requests[0]["body"] and "tools" not in fake.requests[0]["body"]


def test_the_sdk_is_imported_lazily() -> None:
    import subprocess

    code = (
        "import sys, agent_ls.agent.loop, agent_ls.agent.providers.anthropic;"
        "agent_ls.agent.providers.make_provider(agent_ls.agent.config.AgentConfig());"
        "print('anthropic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
