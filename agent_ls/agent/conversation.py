"""Session entries → the ``messages`` of a Messages API request.

The result is always valid for the API whatever the file holds (a crash mid-turn, a cancelled
turn, an old compaction): roles alternate, empty text blocks are dropped, every tool_use is
answered by a tool_result in the next message and no tool_result is orphaned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

INTERRUPTED = "not run: the turn was interrupted before this tool call finished"


def summary_text(summary: str) -> str:
    """How a compaction summary is shown to the model in place of the turns it replaced."""
    return (
        "The earlier part of this conversation was compacted. Summary of it:\n"
        f"<summary>\n{summary}\n</summary>"
    )


def _compacted(path: Sequence[Mapping[str, Any]]) -> tuple[str | None, int]:
    """The latest compaction summary on the path (if any) and where the entries it keeps start."""
    summary: str | None = None
    start = 0
    for entry in path:
        if entry.get("type") != "compaction":
            continue
        kept = entry.get("firstKeptEntryId")
        position = next((i for i, e in enumerate(path) if e.get("id") == kept), None)
        if position is not None and isinstance(entry.get("summary"), str):
            summary, start = entry["summary"], position
    return summary, start


def active_entries(path: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[Mapping[str, Any]]]:
    """The latest compaction summary on the path (if any) and the message entries it keeps."""
    summary, start = _compacted(path)
    return summary, [e for e in path[start:] if e.get("type") == "message"]


def build_messages(path: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The API conversation for a session path (root → leaf).

    A `turn_end` entry is not sent; a turn it closes on the user's side (a prompt cancelled
    before any reply, or after its tool results) gets a short assistant note, so the next
    prompt is never merged into the cancelled one: two user messages never follow each other.
    """
    summary, start = _compacted(path)
    raw: list[tuple[str, list[dict[str, Any]]]] = []
    if summary is not None:
        raw.append(("user", [{"type": "text", "text": summary_text(summary)}]))
    for entry in path[start:]:
        kind = entry.get("type")
        if kind == "turn_end":
            if raw and raw[-1][0] == "user":
                raw.append(("assistant", [{"type": "text", "text": _ended(entry)}]))
        elif kind == "message":
            role = "assistant" if entry.get("role") == "assistant" else "user"
            raw.append((role, _clean(entry.get("content"))))
    return _merge(_pair_tool_calls(raw))


def _ended(turn_end: Mapping[str, Any]) -> str:
    if turn_end.get("stopReason") == "cancelled":
        return "(The user cancelled the turn here.)"
    if turn_end.get("stopReason") == "max_turn_requests":
        return "(The turn stopped here: it reached its limit of model calls.)"
    return "(The turn stopped here on an error.)"


def _clean(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return []
    blocks = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text" and not str(block.get("text", "")).strip():
            continue
        blocks.append(dict(block))
    return blocks


def _pair_tool_calls(
    raw: list[tuple[str, list[dict[str, Any]]]],
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Answer unanswered tool_use blocks and drop tool_results that answer nothing."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    open_ids: list[str] = []
    for role, content in raw:
        if role == "assistant":
            if open_ids:
                out.append(("user", [_interrupted(i) for i in open_ids]))
            out.append((role, content))
            open_ids = [b["id"] for b in content if b.get("type") == "tool_use" and "id" in b]
            continue
        answered = [
            b
            for b in content
            if b.get("type") == "tool_result" and b.get("tool_use_id") in open_ids
        ]
        ids = {b["tool_use_id"] for b in answered}
        missing = [_interrupted(i) for i in open_ids if i not in ids]
        rest = [b for b in content if b.get("type") != "tool_result"]
        out.append((role, answered + missing + rest))
        open_ids = []
    if open_ids:
        out.append(("user", [_interrupted(i) for i in open_ids]))
    return out


def _interrupted(tool_use_id: str) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": INTERRUPTED,
        "is_error": True,
    }


def _merge(raw: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for role, content in raw:
        if not content:
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(content)
        else:
            messages.append({"role": role, "content": list(content)})
    if messages and messages[0]["role"] != "user":
        messages.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continued)"}]})
    return messages
