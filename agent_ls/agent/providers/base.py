"""The provider interface: one streamed model response as a sequence of plain events.

Providers never raise (only ``CancelledError`` passes through): every failure becomes a final
``ProviderFailure``, and a successful response ends with ``MessageDone``. The loop therefore has
one code path for text, tools, errors and cut streams.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FailureKind = Literal[
    "auth", "rate_limit", "overloaded", "network", "stream_cut", "bad_request", "other"
]


@dataclass(frozen=True)
class ModelRequest:
    """One Messages API request, provider-neutral."""

    model: str
    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 8192
    thinking_budget: int | None = None


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    index: int
    thinking: str


@dataclass(frozen=True)
class BlockStop:
    """A content block is complete; ``block`` is its final form (tool input parsed)."""

    index: int
    block: dict[str, Any]


@dataclass(frozen=True)
class MessageDone:
    content: list[dict[str, Any]]
    stop_reason: str
    usage: dict[str, int]
    model: str


@dataclass(frozen=True)
class ProviderFailure:
    """The response failed; ``message`` is meant for the user and never holds a secret."""

    message: str
    kind: FailureKind = "other"
    retry_after: float | None = None


ProviderEvent = TextDelta | ThinkingDelta | BlockStop | MessageDone | ProviderFailure


class Provider(Protocol):
    """A source of model responses."""

    def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one response; ends with MessageDone or ProviderFailure, never raises."""
        ...

    async def complete(self, request: ModelRequest) -> str | ProviderFailure:
        """One response without tools, as text (used for compaction summaries)."""
        ...


class StreamAssembler:
    """Turns Messages API stream events (as dicts) into provider events and the final message.

    Shared by the Anthropic provider (SDK events) and the scripted one (canned turns), so both
    stream exactly alike.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self.usage: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.finished = False

    def feed(self, event: Mapping[str, Any]) -> list[ProviderEvent]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.model = message.get("model") or self.model
            self._add_usage(message.get("usage"))
        elif kind == "content_block_start":
            return self._start(int(event["index"]), dict(event.get("content_block") or {}))
        elif kind == "content_block_delta":
            return self._delta(int(event["index"]), event.get("delta") or {})
        elif kind == "content_block_stop":
            return self._stop(int(event["index"]))
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
            self._add_usage(event.get("usage"), replace=True)
        elif kind == "message_stop":
            self.finished = True
            return [self.done()]
        return []

    def done(self) -> MessageDone:
        content = [self.blocks[i] for i in sorted(self.blocks)]
        return MessageDone(
            content=content,
            stop_reason=self.stop_reason or "end_turn",
            usage=dict(self.usage),
            model=self.model,
        )

    def _add_usage(self, usage: Mapping[str, Any] | None, *, replace: bool = False) -> None:
        for key, value in (usage or {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                self.usage[key] = value if replace or key not in self.usage else self.usage[key]

    def _start(self, index: int, block: dict[str, Any]) -> list[ProviderEvent]:
        self.blocks[index] = block
        if block.get("type") == "tool_use":
            self._json[index] = []
        return []

    def _delta(self, index: int, delta: Mapping[str, Any]) -> list[ProviderEvent]:
        block = self.blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta["text"]
            return [TextDelta(index, delta["text"])]
        if kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta["thinking"]
            return [ThinkingDelta(index, delta["thinking"])]
        if kind == "signature_delta":
            block["signature"] = block.get("signature", "") + delta["signature"]
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(delta["partial_json"])
        return []

    def _stop(self, index: int) -> list[ProviderEvent]:
        block = self.blocks.get(index)
        if block is None:
            return []
        if block.get("type") == "tool_use":
            raw = "".join(self._json.pop(index, []))
            try:
                parsed = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                parsed = {"_invalid_json": raw}
            block["input"] = parsed if isinstance(parsed, dict) else {"_value": parsed}
        return [BlockStop(index, block)]


def status_failure(status: int, detail: str, retry_after: float | None = None) -> ProviderFailure:
    """An HTTP error status as a failure the user can act on."""
    detail = detail.strip() or f"HTTP {status}"
    if status == 401:
        return ProviderFailure(
            f"The API key was rejected (401: {detail}). Check ANTHROPIC_API_KEY.", "auth"
        )
    if status == 403:
        return ProviderFailure(f"The API key may not use this model (403: {detail}).", "auth")
    if status == 429:
        wait = f" Retry after {retry_after:g} s." if retry_after is not None else " Retry shortly."
        return ProviderFailure(
            f"Rate limited by the API (429: {detail}).{wait}", "rate_limit", retry_after
        )
    if status == 529:
        return ProviderFailure(
            f"The API is overloaded (529: {detail}). Try again in a moment.",
            "overloaded",
            retry_after,
        )
    if status in (400, 404, 413, 422):
        return ProviderFailure(f"The API refused the request ({status}: {detail}).", "bad_request")
    return ProviderFailure(f"The API failed ({status}: {detail}). Try again.", "other", retry_after)
