"""A provider that plays canned turns with no HTTP: for demos, tests and offline use."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable

from agent_ls.agent.providers.base import (
    ModelRequest,
    ProviderEvent,
    ProviderFailure,
    StreamAssembler,
    status_failure,
)
from agent_ls.agent.providers.turns import Turn, echo_turn, load_turns, sse_events


class ScriptedProvider:
    """Answers each request with the next queued turn, or echoes the prompt when none is left."""

    def __init__(self, turns: Iterable[Turn] = ()) -> None:
        self.turns: deque[Turn] = deque(turns)
        self.requests: list[ModelRequest] = []

    @classmethod
    def from_script(cls, script: str | os.PathLike[str] | None) -> ScriptedProvider:
        """From a turns file (or JSON text); None gives an echoing provider."""
        return cls(load_turns(script) if script else ())

    def _next(self, request: ModelRequest) -> Turn:
        self.requests.append(request)
        return self.turns.popleft() if self.turns else echo_turn(request.messages)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        turn = self._next(request)
        if turn.error is not None:
            yield status_failure(turn.error.status, turn.error.message, turn.error.retry_after)
            return
        assembler = StreamAssembler(request.model)
        for name, data in sse_events(turn, request.model):
            if name == "content_block_delta":
                await asyncio.sleep(turn.delay_ms / 1000)
            for event in assembler.feed(data):
                yield event
        if not assembler.finished:
            yield ProviderFailure("The scripted stream was cut mid-way.", "stream_cut")

    async def complete(self, request: ModelRequest) -> str | ProviderFailure:
        turn = self._next(request)
        if turn.error is not None:
            return status_failure(turn.error.status, turn.error.message, turn.error.retry_after)
        return "".join(block.get("text", "") for block in turn.content if block["type"] == "text")
