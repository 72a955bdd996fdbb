"""A session's active path as the parts a readable export shows, for every renderer alike.

Messages keep their text; a tool call carries its input and, once answered, its output (the
tool result is shown with its call, not as a message of its own); a checkpoint carries each
file's unified diff from its snapshots. Bookkeeping entries (leaf moves) are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.diffs import file_diffs
from agent_ls.sessions.format import Entry
from agent_ls.sessions.store import SessionInfo


@dataclass
class ToolCall:
    """A tool the agent called: its input as pretty JSON, its output once the result came."""

    call_id: str
    name: str
    input: str
    output: str | None = None
    is_error: bool = False


@dataclass
class Message:
    """A user prompt or an assistant reply: text, thinking and tool calls in order."""

    role: str
    ts: str
    entry_id: str
    parts: list[tuple[str, str] | ToolCall] = field(default_factory=list)  # ("text"|"thinking", …)
    model: str | None = None


@dataclass
class FileChange:
    path: str
    operation: str
    diff: str


@dataclass
class Checkpoint:
    ts: str
    entry_id: str
    kind: str
    files: list[FileChange]


@dataclass
class Note:
    """Anything else worth a line: a compaction summary, a rename, a turn that ended early."""

    ts: str
    entry_id: str
    title: str
    text: str = ""


Part = Message | Checkpoint | Note


@dataclass
class Document:
    title: str
    info: SessionInfo
    parts: list[Part]


def document(info: SessionInfo, path: list[Entry], blobs: BlobStore) -> Document:
    """The parts of a session path (root → leaf)."""
    parts: list[Part] = []
    calls: dict[str, ToolCall] = {}
    for entry in path:
        kind = entry.get("type")
        ts, entry_id = str(entry.get("ts", "")), str(entry.get("id", ""))
        if kind == "message" and entry.get("role") == "tool_result":
            orphans = _answer(entry.get("content"), calls)
            if orphans:
                parts.append(Message("tool", ts, entry_id, list(orphans)))
        elif kind == "message":
            parts.append(_message(entry, ts, entry_id, calls))
        elif kind == "checkpoint":
            changes = [FileChange(d.path, d.operation, d.diff) for d in file_diffs(entry, blobs)]
            parts.append(Checkpoint(ts, entry_id, str(entry.get("kind") or "turn"), changes))
        elif kind == "compaction":
            parts.append(Note(ts, entry_id, "Earlier turns compacted", str(entry.get("summary"))))
        elif kind == "session_info" and isinstance(entry.get("name"), str):
            parts.append(Note(ts, entry_id, f"Named “{entry['name']}”"))
        elif kind == "turn_end":
            reason = str(entry.get("stopReason", "ended"))
            parts.append(Note(ts, entry_id, f"Turn {reason}", str(entry.get("error") or "")))
    title = info.name or info.first_message or info.session_id
    return Document(" ".join(title.split())[:120], info, parts)


def _message(entry: Entry, ts: str, entry_id: str, calls: dict[str, ToolCall]) -> Message:
    role = "assistant" if entry.get("role") == "assistant" else "user"
    model = entry.get("model") if isinstance(entry.get("model"), str) else None
    message = Message(role, ts, entry_id, model=model)
    content = entry.get("content")
    if isinstance(content, str):
        message.parts.append(("text", content))
        return message
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            message.parts.append(("text", block["text"]))
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            message.parts.append(("thinking", block["thinking"]))
        elif kind == "tool_use":
            call = ToolCall(
                str(block.get("id", "")),
                str(block.get("name", "tool")),
                json.dumps(block.get("input"), ensure_ascii=False, indent=2),
            )
            calls[call.call_id] = call
            message.parts.append(call)
        elif kind == "image":
            message.parts.append(("text", "[image]"))
    return message


def _answer(content: Any, calls: dict[str, ToolCall]) -> list[ToolCall]:
    """Put each result with its call; results whose call is not on the path come back."""
    orphans = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        call = calls.get(str(block.get("tool_use_id")))
        if call is None:
            call = ToolCall(str(block.get("tool_use_id")), "tool result", "")
            orphans.append(call)
        call.output = result_text(block.get("content"))
        call.is_error = bool(block.get("is_error"))
    return orphans


def result_text(content: Any) -> str:
    """A tool result's content as text (other blocks named in brackets)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, dict):
            parts.append(f"[{block.get('type', 'block')}]")
    return "\n".join(parts)
