"""The canned-turn format: one JSON object per model response.

Shared by the scripted provider (no HTTP) and the fake Anthropic API used by every test, so a
script file drives a demo, a unit test and an editor test the same way.

A turn is one of:

- ``{"content": [blocks], "stop_reason"?, "chunk_size"?, "delay_ms"?, "usage"?}`` where a block
  is ``{"type": "text", "text"}``, ``{"type": "thinking", "thinking"}`` or
  ``{"type": "tool_use", "id"?, "name", "input"}``;
- ``{"error": {"status", "type"?, "message"?, "retry_after"?}}``: the request fails with that
  HTTP status before anything streams;
- ``{"cut_after": N, ...content...}``: the content streams N deltas, then the connection drops.

When no turn is queued the reply is the text ``Echo: <last user text>``.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CHUNK_SIZE = 16
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_ids = itertools.count(1)


class TurnFormatError(ValueError):
    """A script does not follow the canned-turn format."""


@dataclass(frozen=True)
class TurnError:
    """An HTTP error the fake API answers instead of a message."""

    status: int
    type: str
    message: str
    retry_after: float | None = None

    def body(self) -> dict[str, Any]:
        """The Messages API error body."""
        return {"type": "error", "error": {"type": self.type, "message": self.message}}


@dataclass(frozen=True)
class Turn:
    """One canned model response."""

    content: tuple[dict[str, Any], ...] = ()
    stop_reason: str | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    delay_ms: float = 0
    usage: Mapping[str, int] | None = None
    error: TurnError | None = None
    cut_after: int | None = None

    @property
    def final_stop_reason(self) -> str:
        """The stop reason sent: explicit, else tool_use when a tool is called, else end_turn."""
        if self.stop_reason:
            return self.stop_reason
        if any(block["type"] == "tool_use" for block in self.content):
            return "tool_use"
        return "end_turn"

    def final_usage(self) -> dict[str, int]:
        """Usage numbers: given ones, else a rough count from the content length."""
        if self.usage is not None:
            return dict(self.usage)
        chars = sum(len(json.dumps(block)) for block in self.content)
        return {"input_tokens": 10, "output_tokens": max(1, chars // 4)}


def parse_turn(raw: Mapping[str, Any]) -> Turn:
    """Validate one JSON object as a Turn, with a message naming what is wrong."""
    if not isinstance(raw, Mapping):
        raise TurnFormatError(f"a turn must be a JSON object, got {type(raw).__name__}")
    if "error" in raw:
        err = raw["error"]
        if not isinstance(err, Mapping) or not isinstance(err.get("status"), int):
            raise TurnFormatError('"error" needs an integer "status"')
        status = err["status"]
        retry_after = err.get("retry_after")
        return Turn(
            error=TurnError(
                status=status,
                type=str(err.get("type") or _ERROR_TYPES.get(status, "api_error")),
                message=str(err.get("message") or f"fake error {status}"),
                retry_after=float(retry_after) if retry_after is not None else None,
            )
        )
    content = raw.get("content", [])
    if not isinstance(content, list):
        raise TurnFormatError('"content" must be a list of blocks')
    blocks = tuple(_parse_block(block) for block in content)
    chunk_size = raw.get("chunk_size", DEFAULT_CHUNK_SIZE)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise TurnFormatError('"chunk_size" must be a positive integer')
    cut_after = raw.get("cut_after")
    if cut_after is not None and (not isinstance(cut_after, int) or cut_after < 0):
        raise TurnFormatError('"cut_after" must be a non-negative integer')
    return Turn(
        content=blocks,
        stop_reason=raw.get("stop_reason"),
        chunk_size=chunk_size,
        delay_ms=float(raw.get("delay_ms", 0)),
        usage=raw.get("usage"),
        cut_after=cut_after,
    )


def _parse_block(block: Any) -> dict[str, Any]:
    if not isinstance(block, Mapping):
        raise TurnFormatError("a content block must be an object")
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "thinking":
        return {
            "type": "thinking",
            "thinking": str(block.get("thinking", "")),
            "signature": str(block.get("signature", "fake-signature")),
        }
    if kind == "tool_use":
        if not isinstance(block.get("name"), str):
            raise TurnFormatError('a tool_use block needs a "name"')
        tool_input = block.get("input", {})
        if not isinstance(tool_input, Mapping):
            raise TurnFormatError('a tool_use "input" must be an object')
        return {
            "type": "tool_use",
            "id": str(block.get("id") or f"toolu_fake_{next(_ids):06d}"),
            "name": block["name"],
            "input": dict(tool_input),
        }
    raise TurnFormatError(f"unknown content block type {kind!r} (text, thinking, tool_use)")


def load_turns(source: str | os.PathLike[str] | Sequence[Mapping[str, Any]]) -> list[Turn]:
    """Turns from a file (a JSON list, or JSON Lines), a JSON string, or already-parsed objects."""
    if isinstance(source, Sequence) and not isinstance(source, str):
        items: Any = source
    else:
        text = str(source)
        if not text.lstrip().startswith(("[", "{")):
            text = Path(text).read_text(encoding="utf-8")
        items = _parse_json_or_lines(text)
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        raise TurnFormatError("a script is a JSON list of turns (or one turn per line)")
    return [parse_turn(item) for item in items]


def _parse_json_or_lines(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError as exc:
            raise TurnFormatError(f"not JSON or JSON Lines: {exc}") from exc


def echo_turn(messages: Sequence[Mapping[str, Any]]) -> Turn:
    """The reply when nothing is queued: echo the last user text."""
    return Turn(content=({"type": "text", "text": f"Echo: {last_user_text(messages)}"},))


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the most recent user message that has any text."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [
            b.get("text", "")
            for b in content or ()
            if isinstance(b, Mapping) and b.get("type") == "text"
        ]
        if texts:
            return "\n".join(texts)
    return ""


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def message_json(turn: Turn, model: str, message_id: str | None = None) -> dict[str, Any]:
    """The turn as a complete (non-streaming) Messages API response."""
    return {
        "id": message_id or f"msg_fake_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [dict(block) for block in turn.content],
        "stop_reason": turn.final_stop_reason,
        "stop_sequence": None,
        "usage": turn.final_usage(),
    }


def sse_events(turn: Turn, model: str, message_id: str | None = None) -> Iterator[tuple[str, dict]]:
    """The turn as the Messages API stream: (event name, data) pairs in order.

    Stops right after ``cut_after`` content deltas when the turn says so; the caller then drops
    the connection.
    """
    usage = turn.final_usage()
    start = message_json(turn, model, message_id)
    start.update(content=[], stop_reason=None, usage={**usage, "output_tokens": 1})
    yield "message_start", {"type": "message_start", "message": start}
    deltas = 0
    for index, block in enumerate(turn.content):
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": _empty_block(block),
            },
        )
        for delta in _block_deltas(block, turn.chunk_size):
            if turn.cut_after is not None and deltas >= turn.cut_after:
                return
            deltas += 1
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    if turn.cut_after is not None:
        return
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": turn.final_stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": usage.get("output_tokens", 0)},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _empty_block(block: Mapping[str, Any]) -> dict[str, Any]:
    if block["type"] == "text":
        return {"type": "text", "text": ""}
    if block["type"] == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}


def _block_deltas(block: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    if block["type"] == "text":
        for piece in _chunks(block["text"], size):
            yield {"type": "text_delta", "text": piece}
    elif block["type"] == "thinking":
        for piece in _chunks(block["thinking"], size):
            yield {"type": "thinking_delta", "thinking": piece}
        yield {"type": "signature_delta", "signature": block["signature"]}
    else:
        for piece in _chunks(json.dumps(block["input"]), size):
            yield {"type": "input_json_delta", "partial_json": piece}
