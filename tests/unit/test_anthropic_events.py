"""plain_event: SDK stream events as plain data, the same as model_dump(exclude_none=True)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import anthropic
from anthropic import types

from agent_ls.agent.providers.anthropic import plain_event

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fakes.anthropic_server import FakeAnthropic

TURN = {
    "content": [
        {"type": "thinking", "thinking": "Let me look at the file first.", "signature": "sig"},
        {"type": "text", "text": "I will write the file now."},
        {"type": "tool_use", "name": "write_file", "input": {"path": "a.py", "mode": None}},
    ],
    "chunk_size": 5,
    "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 3},
}


def test_every_event_of_a_stream_matches_model_dump() -> None:
    async def events() -> list[object]:
        with FakeAnthropic([TURN]) as fake:
            client = anthropic.AsyncAnthropic(api_key="sk-test", base_url=fake.base_url)
            response = await client.messages.create(
                model="m", max_tokens=100, messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async with response:
                return [event async for event in response]

    seen = asyncio.run(events())
    assert len(seen) > 10
    for event in seen:
        assert plain_event(event) == event.model_dump(exclude_none=True)  # type: ignore[attr-defined]


def test_unknown_fields_are_kept_and_nulls_in_dict_fields_stay() -> None:
    event = types.RawContentBlockStartEvent.model_validate(
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t1", "name": "n", "input": {"a": None}},
            "newField": {"x": [1, None]},
        }
    )
    plain = plain_event(event)
    assert plain == event.model_dump(exclude_none=True)
    assert plain["content_block"]["input"] == {"a": None}
    assert plain["newField"] == {"x": [1, None]}
