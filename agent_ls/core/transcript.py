"""Session entries as the transcript items clients show, with each tool call titled once.

The server titles a tool call when it streams it (`describe_call`); a reloaded transcript gets the
same title and kind from the same function, so clients keep no copy of the tools' names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent_ls.agent.events import ToolCallStarted
from agent_ls.agent.host import DirectHost
from agent_ls.agent.tools import describe_call
from agent_ls.checkpoints.listing import CheckpointSummary, summarize

Role = Literal["user", "assistant", "tool"]
_ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "tool_result": "tool"}


@dataclass(frozen=True)
class MessageItem:
    """A stored message; `content` keeps Anthropic blocks as stored, `tool_calls` titles each
    tool_use block of an assistant message."""

    entry_id: str
    ts: str
    role: Role
    content: list[dict[str, Any]] | str
    model: str | None = None
    usage: Mapping[str, int] | None = None
    stop_reason: str | None = None
    tool_calls: list[ToolCallStarted] = field(default_factory=list)


@dataclass(frozen=True)
class CheckpointItem:
    """A checkpoint as the entry recorded it (no file is read to show a transcript)."""

    entry_id: str
    ts: str
    checkpoint: CheckpointSummary


@dataclass(frozen=True)
class CompactionItem:
    entry_id: str
    ts: str
    summary: str


@dataclass(frozen=True)
class TurnEndItem:
    """A turn that ended in an error or was cancelled, as its `turn_end` entry recorded it."""

    entry_id: str
    ts: str
    stop_reason: str
    error: str | None = None


TranscriptItem = MessageItem | CheckpointItem | CompactionItem | TurnEndItem


def transcript_items(
    entries: Sequence[Mapping[str, Any]], roots: Sequence[Path]
) -> list[TranscriptItem]:
    """The entries clients show, in order; bookkeeping entries (leaf, session_info) are left out."""
    host = DirectHost(roots)
    items: list[TranscriptItem] = []
    for entry in entries:
        entry_id, ts = str(entry.get("id")), str(entry.get("ts"))
        kind = entry.get("type")
        if kind == "message" and entry.get("role") in _ROLES:
            content = entry.get("content", [])
            items.append(
                MessageItem(
                    entry_id,
                    ts,
                    _ROLES[entry["role"]],
                    content,
                    model=entry.get("model"),
                    usage=entry.get("usage"),
                    stop_reason=entry.get("stopReason"),
                    tool_calls=_tool_calls(content, host),
                )
            )
        elif kind == "checkpoint" and isinstance(entry.get("files"), list):
            items.append(CheckpointItem(entry_id, ts, summarize(entry)))
        elif kind == "compaction":
            items.append(CompactionItem(entry_id, ts, str(entry.get("summary", ""))))
        elif kind == "turn_end":
            error = entry.get("error")
            reason = str(entry.get("stopReason", "error"))
            items.append(
                TurnEndItem(entry_id, ts, reason, error if isinstance(error, str) else None)
            )
    return items


def _tool_calls(content: list[dict[str, Any]] | str, host: DirectHost) -> list[ToolCallStarted]:
    if not isinstance(content, list):
        return []
    calls = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            tool_input = block.get("input")
            tool_input = tool_input if isinstance(tool_input, dict) else {}
            calls.append(
                describe_call(str(block.get("id")), str(block.get("name")), tool_input, host)
            )
    return calls
