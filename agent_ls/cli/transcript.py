"""A stored entry as readable text for `agent-ls sessions show`: messages, tool calls, results."""

from __future__ import annotations

import json
from typing import Any

RESULT_LINES = 8
INPUT_CHARS = 300


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _clip_lines(text: str, lines: int = RESULT_LINES) -> str:
    kept = text.rstrip("\n").splitlines()
    more = len(kept) - lines
    return "\n".join(kept[:lines] + ([f"… {more} more lines"] if more > 0 else []))


def _tool_input(value: Any) -> str:
    """A tool call's input: the command or path when it has one, else compact JSON."""
    if isinstance(value, dict):
        for key in ("command", "path", "pattern"):
            if isinstance(value.get(key), str) and len(value) <= 2:
                return value[key]
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= INPUT_CHARS else text[: INPUT_CHARS - 1] + "…"


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict):
                parts.append(f"[{block.get('type', 'block')}]")
        return "\n".join(parts)
    return ""


def _block(block: Any) -> str:
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return str(block)
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "thinking":
        return "(thinking) " + " ".join(str(block.get("thinking", "")).split())[:200]
    if kind == "tool_use":
        return f"→ {block.get('name')}: {_tool_input(block.get('input'))}"
    if kind == "tool_result":
        mark = "✗ error" if block.get("is_error") else "← result"
        text = _clip_lines(_result_text(block.get("content"))) or "(empty)"
        return f"{mark}:\n{_indent(text)}"
    return f"[{kind}]"


def describe(entry: dict[str, Any]) -> str:
    """The entry as a header line and its indented content."""
    head = f"[{entry.get('id')}]"
    kind = entry.get("type")
    if kind == "message":
        content = entry.get("content")
        blocks = content if isinstance(content, list) else [content or ""]
        body = "\n".join(_block(b) for b in blocks).strip() or "(no content)"
        first, _, rest = body.partition("\n")
        return f"{head} {entry.get('role')}: {first}" + (f"\n{_indent(rest)}" if rest else "")
    if kind == "session_info":
        return f"{head} renamed: {entry.get('name')}"
    if kind == "checkpoint":
        files = entry.get("files") or []
        names = ", ".join(
            f"{f.get('operation')} {f.get('path')}" for f in files if isinstance(f, dict)
        )
        return f"{head} checkpoint: {names or 'no files'}"
    if kind == "compaction":
        return f"{head} compaction:\n{_indent(str(entry.get('summary', '')))}"
    if kind == "turn_end":
        error = entry.get("error")
        return f"{head} turn ended: {entry.get('stopReason')}" + (f" — {error}" if error else "")
    return f"{head} {kind}"
