"""The typed events one agent turn emits, in order.

They stay free of any wire format: ``lsp/protocol.py`` alone turns them into
``agent/session/update`` payloads (ACP shapes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from agent_ls.checkpoints.listing import CheckpointSummary

ToolKind = Literal["read", "edit", "delete", "move", "search", "execute", "think", "fetch", "other"]
ToolStatus = Literal["pending", "in_progress", "completed", "failed"]


@dataclass(frozen=True)
class UserMessage:
    """The user's prompt, once it is stored as a session entry."""

    entry_id: str
    content: list[dict[str, Any]]


@dataclass(frozen=True)
class TextChunk:
    """A piece of the assistant's reply text."""

    text: str


@dataclass(frozen=True)
class ThoughtChunk:
    """A piece of the model's visible thinking."""

    text: str


@dataclass(frozen=True)
class TextContent:
    """Plain text shown for a tool call (output, error)."""

    text: str


@dataclass(frozen=True)
class DiffContent:
    """A file change a tool made; ``None`` text means the file did not exist (or was deleted)."""

    path: str
    old_text: str | None
    new_text: str | None


ToolCallContent = TextContent | DiffContent


@dataclass(frozen=True)
class CommandOutput:
    """How a shell command ended, beside the tail of its output shown in the tool call."""

    exit_code: int | None
    signal: str | None
    truncated: bool


@dataclass(frozen=True)
class ToolCallStarted:
    """The model asked for a tool; its input is complete and it has not run yet."""

    tool_call_id: str
    title: str
    kind: ToolKind
    raw_input: dict[str, Any]
    locations: list[str] = field(default_factory=list)
    status: ToolStatus = "pending"
    content: list[ToolCallContent] = field(default_factory=list)
    """What the call will do, when the user is asked first (an edit's diff, not yet written)."""


@dataclass(frozen=True)
class ToolCallUpdated:
    """A tool call's progress or result."""

    tool_call_id: str
    status: ToolStatus
    content: list[ToolCallContent] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    raw_output: CommandOutput | None = None


@dataclass(frozen=True)
class UsageReported:
    """Token usage of one model response (Anthropic usage fields)."""

    usage: dict[str, int]
    model: str


@dataclass(frozen=True)
class AssistantMessage:
    """An assistant message was stored as a session entry (complete or cut short)."""

    entry_id: str


@dataclass(frozen=True)
class CheckpointCreated:
    """The core recorded a checkpoint at the end of a turn."""

    checkpoint: CheckpointSummary


@dataclass(frozen=True)
class TurnEnded:
    """A turn that ended in an error or was cancelled, once its `turn_end` entry is stored."""

    entry_id: str
    ts: str
    stop_reason: str
    error: str | None = None


AgentEvent = (
    UserMessage
    | TextChunk
    | ThoughtChunk
    | ToolCallStarted
    | ToolCallUpdated
    | UsageReported
    | AssistantMessage
    | CheckpointCreated
    | TurnEnded
)
