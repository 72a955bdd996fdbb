"""The LSP adapter in-process: update coalescing and permission answers over a stand-in server."""

from __future__ import annotations

import asyncio
from typing import Any

from agent_ls.agent.events import AgentEvent, TextChunk, ThoughtChunk, ToolCallStarted
from agent_ls.lsp import protocol
from agent_ls.lsp.adapter import COALESCE_SECONDS, ChunkCoalescer, LspAdapter


class Sent:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, AgentEvent]] = []

    def __call__(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        self.items.append((session_id, turn_id, event))


async def test_the_first_chunk_goes_at_once_then_one_update_per_frame() -> None:
    sent = Sent()
    chunks = ChunkCoalescer(sent)
    chunks.add("s", "t", TextChunk("a"))
    assert [e for _, _, e in sent.items] == [TextChunk("a")]
    for part in "bcd":
        chunks.add("s", "t", TextChunk(part))
    assert len(sent.items) == 1  # held for the rest of the frame
    await asyncio.sleep(COALESCE_SECONDS * 3)
    assert [e for _, _, e in sent.items] == [TextChunk("a"), TextChunk("bcd")]


async def test_a_change_of_kind_or_turn_flushes_first_in_order() -> None:
    sent = Sent()
    chunks = ChunkCoalescer(sent)
    chunks.add("s", "t", TextChunk("a"))
    chunks.add("s", "t", TextChunk("b"))
    chunks.add("s", "t", ThoughtChunk("hm"))  # another kind: "b" goes out before it is held
    chunks.add("s", "t2", ThoughtChunk("next"))  # another turn: flushed too
    chunks.flush("s")
    assert [(turn, e) for _, turn, e in sent.items] == [
        ("t", TextChunk("a")),
        ("t", TextChunk("b")),
        ("t", ThoughtChunk("hm")),
        ("t2", ThoughtChunk("next")),
    ]
    chunks.flush("s")  # nothing held: nothing sent
    assert len(sent.items) == 4


async def test_sessions_are_coalesced_apart() -> None:
    sent = Sent()
    chunks = ChunkCoalescer(sent)
    chunks.add("one", "t", TextChunk("1"))
    chunks.add("two", "t", TextChunk("2"))
    assert [(s, e.text) for s, _, e in sent.items] == [("one", "1"), ("two", "2")]  # type: ignore[union-attr]


class StandInProtocol:
    """What the adapter uses of pygls' protocol: notify and send_request_async."""

    def __init__(self, reply: Any = None) -> None:
        self.notified: list[tuple[str, Any]] = []
        self.requests: list[tuple[str, Any]] = []
        self.reply = reply

    def notify(self, method: str, params: Any) -> None:
        self.notified.append((method, params))

    async def send_request_async(self, method: str, params: Any) -> Any:
        self.requests.append((method, params))
        return self.reply


class StandInServer:
    def __init__(self, reply: Any = None) -> None:
        self.protocol = StandInProtocol(reply)


CALL = ToolCallStarted("c1", "Run `make`", "execute", {"command": "make"})


async def test_text_is_flushed_before_a_tool_call_goes_out() -> None:
    server = StandInServer()
    adapter = LspAdapter(server)  # type: ignore[arg-type]
    adapter.send_update("s", "t", TextChunk("a"))
    adapter.send_update("s", "t", TextChunk("b"))
    adapter.send_update("s", "t", CALL)
    updates = [p["update"] for m, p in server.protocol.notified if m == protocol.SESSION_UPDATE]
    assert [u["kind"] for u in updates] == [
        "agent_message_chunk",
        "agent_message_chunk",
        "tool_call",
    ]
    assert updates[1]["content"]["text"] == "b"
    assert updates[2]["title"] == "Run `make`" and updates[2]["toolKind"] == "execute"


async def test_the_permission_panel_answer_maps_to_an_option_kind() -> None:
    for reply, answer in [
        ({"outcome": {"outcome": "selected", "optionId": "allow_always"}}, "allow_always"),
        ({"outcome": {"outcome": "selected", "optionId": "reject_always"}}, "reject_always"),
        ({"outcome": {"outcome": "cancelled"}}, "reject_once"),
        ({"outcome": {"outcome": "selected", "optionId": "made-up"}}, "reject_once"),
        (None, "reject_once"),
    ]:
        server = StandInServer(reply)
        adapter = LspAdapter(server, permission_ui=True)  # type: ignore[arg-type]
        assert await adapter.ask_permission("s", CALL) == answer
        [(method, params)] = server.protocol.requests
        assert method == protocol.REQUEST_PERMISSION
        assert params["toolCall"] == {
            "toolCallId": "c1",
            "title": "Run `make`",
            "toolKind": "execute",
            "rawInput": {"command": "make"},
        }
        assert [o["kind"] for o in params["options"]] == [  # rejecting first (issue 11: 9)
            "reject_once",
            "allow_once",
            "allow_always",
            "reject_always",
        ]
