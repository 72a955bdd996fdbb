"""The wire contract: method names, params types, error codes and result shapes.

Every custom method's params are an attrs class here; `params.structure` checks them strictly so a
bad request gets -32602 naming the field, instead of pygls' silent drop. Results are plain
camelCase dicts built by the `*_to_wire` helpers, the only place wire shapes are spelled out.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import attrs

PROTOCOL_VERSION = 1

# Requests, client → server.
SESSION_LIST = "agent/session/list"
SESSION_NEW = "agent/session/new"
SESSION_SWITCH = "agent/session/switch"
SESSION_RESUME_RECENT = "agent/session/resumeRecent"
SESSION_HISTORY = "agent/session/history"
SESSION_RENAME = "agent/session/rename"
SESSION_DELETE = "agent/session/delete"
SESSION_FORK = "agent/session/fork"
SESSION_PROMPT = "agent/session/prompt"
CHECKPOINT_LIST = "agent/checkpoint/list"
CHECKPOINT_DIFF = "agent/checkpoint/diff"
CHECKPOINT_RESTORE = "agent/checkpoint/restore"
PERMISSIONS_LIST = "agent/permissions/list"
PERMISSIONS_REVOKE = "agent/permissions/revoke"

# Notifications.
SESSION_CANCEL = "agent/session/cancel"  # client → server
SESSION_UPDATE = "agent/session/update"  # server → client
SESSION_LIST_CHANGED = "agent/session/listChanged"  # server → client

# Requests, server → client.
REQUEST_PERMISSION = "agent/session/requestPermission"

# Error codes (JSON-RPC).
INVALID_PARAMS = -32602
SESSION_NOT_FOUND = -32001
SESSION_BUSY = -32002
CHECKPOINT_CONFLICT = -32003
PROVIDER_ERROR = -32004
CHECKPOINT_NOT_FOUND = -32005

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHECKPOINT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,64}$")
_RULE_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_LIMIT = 1000
MAX_NAME = 200


def _session_id(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _ID.match(value):
        raise ValueError(f"{_wire(attribute)}: not a session id (letters, digits, _ and -)")


def _entry_id(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _ID.match(value):
        raise ValueError(f"{_wire(attribute)}: not an entry id")


def _checkpoint_id(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _CHECKPOINT_ID.match(value):
        raise ValueError(f"{_wire(attribute)}: not a checkpoint id (SESSION:ENTRY)")


def _rule_id(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _RULE_ID.match(value):
        raise ValueError(
            f"{_wire(attribute)}: not a rule id (16 hex digits from agent/permissions/list)"
        )


def _limit(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"{_wire(attribute)}: must be between 1 and {MAX_LIMIT}")


def _name(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not (0 < len(value.strip()) <= MAX_NAME):
        raise ValueError(f"{_wire(attribute)}: must be 1 to {MAX_NAME} characters")


def _wire(attribute: attrs.Attribute[Any]) -> str:
    from agent_ls.lsp.params import camel

    return camel(attribute.name)


@attrs.define
class WorkspaceParams:
    """Requests that act on one folder name it by URI or path; default: the first folder."""

    workspace: str | None = None


@attrs.define
class ListParams:
    cursor: str | None = None
    limit: int = attrs.field(default=50, validator=_limit)
    query: str | None = None
    all_workspaces: bool = False
    workspace: str | None = None


@attrs.define
class NewParams:
    name: str | None = attrs.field(default=None, validator=_name)
    workspace: str | None = None


@attrs.define
class SessionParams:
    """Params that only name a session (switch, delete, cancel, checkpoint list)."""

    session_id: str = attrs.field(validator=_session_id)


@attrs.define
class HistoryParams:
    session_id: str = attrs.field(validator=_session_id)
    before: str | None = attrs.field(default=None, validator=_entry_id)
    limit: int = attrs.field(default=50, validator=_limit)


@attrs.define
class RenameParams:
    session_id: str = attrs.field(validator=_session_id)
    name: str = attrs.field(validator=_name)


@attrs.define
class ForkParams:
    session_id: str = attrs.field(validator=_session_id)
    entry_id: str | None = attrs.field(default=None, validator=_entry_id)


@attrs.define
class Position:
    line: int
    character: int


@attrs.define
class Range:
    start: Position
    end: Position


@attrs.define
class ContextRef:
    """A file (and optionally a range of it) the user attached to the prompt."""

    uri: str
    range: Range | None = None


def _prompt(_: Any, attribute: attrs.Attribute[Any], value: str | list[dict[str, Any]]) -> None:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("prompt: must not be empty")
        return
    if not value:
        raise ValueError("prompt: must hold at least one content block")
    for i, block in enumerate(value):
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            continue
        if kind == "resource_link" and isinstance(block.get("uri"), str):
            continue
        raise ValueError(f"prompt[{i}]: expected a text or resource_link content block")


@attrs.define
class PromptParams:
    prompt: str | list[dict[str, Any]] = attrs.field(validator=_prompt)
    session_id: str | None = attrs.field(default=None, validator=_session_id)
    context: list[ContextRef] | None = None
    work_done_token: str | int | None = None


@attrs.define
class CheckpointDiffParams:
    checkpoint_id: str = attrs.field(validator=_checkpoint_id)
    uri: str | None = None


@attrs.define
class CheckpointRestoreParams:
    checkpoint_id: str = attrs.field(validator=_checkpoint_id)
    scope: Literal["files", "conversation", "both"] = "files"
    dry_run: bool = False
    force: bool = False


@attrs.define
class RevokeParams:
    session_id: str = attrs.field(validator=_session_id)
    rule_id: str = attrs.field(validator=_rule_id)


PARAMS: dict[str, type[Any]] = {
    SESSION_LIST: ListParams,
    SESSION_NEW: NewParams,
    SESSION_SWITCH: SessionParams,
    SESSION_RESUME_RECENT: WorkspaceParams,
    SESSION_HISTORY: HistoryParams,
    SESSION_RENAME: RenameParams,
    SESSION_DELETE: SessionParams,
    SESSION_FORK: ForkParams,
    SESSION_PROMPT: PromptParams,
    SESSION_CANCEL: SessionParams,
    CHECKPOINT_LIST: SessionParams,
    CHECKPOINT_DIFF: CheckpointDiffParams,
    CHECKPOINT_RESTORE: CheckpointRestoreParams,
    PERMISSIONS_LIST: SessionParams,
    PERMISSIONS_REVOKE: RevokeParams,
}


def checkpoint_id(session_id: str, entry_id: str) -> str:
    """Checkpoint ids carry their session so diff/restore need no session lookup."""
    return f"{session_id}:{entry_id}"


def split_checkpoint_id(value: str) -> tuple[str, str]:
    session_id, entry_id = value.split(":", 1)
    return session_id, entry_id


def session_info_to_wire(info: Any, *, active: bool, live: bool) -> dict[str, Any]:
    """SessionInfo on the wire (DESIGN.md §2)."""
    out: dict[str, Any] = {
        "sessionId": info.session_id,
        "workspace": str(info.workspace),
        "createdAt": info.created_at,
        "modifiedAt": info.modified_at,
        "messageCount": info.message_count,
        "firstMessage": info.first_message or "",
        "active": active,
        "live": live,
    }
    if info.name:
        out["name"] = info.name
    if info.parent_session_id:
        out["parentSessionId"] = info.parent_session_id
    return out


_ROLE_KINDS = {"user": "user", "assistant": "assistant", "tool_result": "tool"}


def transcript_item(entry: dict[str, Any], session_id: str) -> dict[str, Any] | None:
    """One entry as a TranscriptItem, or None for bookkeeping entries clients never show.

    Items keep Anthropic content blocks as they are stored, so a client renders text, thinking,
    tool_use and tool_result blocks the same way whether they were streamed or reloaded.
    """
    kind = entry.get("type")
    base = {"entryId": entry.get("id"), "ts": entry.get("ts")}
    if kind == "message":
        role = _ROLE_KINDS.get(entry.get("role", ""))
        if role is None:
            return None
        item = {**base, "kind": role, "content": entry.get("content", [])}
        for key in ("model", "usage", "stopReason"):
            if key in entry:
                item[key] = entry[key]
        return item
    if kind == "checkpoint":
        return {
            **base,
            "kind": "checkpoint",
            "checkpointId": checkpoint_id(session_id, entry["id"]),
            "turnId": entry.get("turnId"),
            "checkpointKind": entry.get("kind", "turn"),
            "files": [
                {
                    "path": f.get("path"),
                    "operation": file_operation(f),
                    "restorable": f.get("restorable", True),
                }
                for f in entry.get("files", [])
            ],
        }
    if kind == "compaction":
        return {**base, "kind": "compaction", "summary": entry.get("summary", "")}
    return None


def transcript_items(entries: list[dict[str, Any]], session_id: str) -> list[dict[str, Any]]:
    return [item for e in entries if (item := transcript_item(e, session_id)) is not None]


def file_operation(change: dict[str, Any]) -> str:
    """created / modified / deleted, from a checkpoint file record's before/after hashes."""
    if change.get("before") is None:
        return "created"
    if change.get("after") is None:
        return "deleted"
    return "modified"


def agent_capabilities(providers: list[str]) -> dict[str, Any]:
    """`capabilities.experimental.agent` in the initialize result."""
    return {
        "version": PROTOCOL_VERSION,
        "sessions": {"fork": True, "rewind": True, "delete": True, "rename": True, "search": True},
        "checkpoints": {"restoreScopes": ["files", "conversation", "both"], "undo": True},
        "permissions": {"list": True, "revoke": True},
        "providers": providers,
    }


def rule_to_wire(rule: Any) -> dict[str, Any]:
    """A remembered permission rule, as `agent/permissions/list` returns it."""
    out = {
        "ruleId": rule.rule_id,
        "toolKind": rule.kind,
        "decision": rule.decision,
        "description": rule.description,
    }
    if rule.command is not None:
        out["command"] = rule.command
    return out


def _tool_content(item: Any) -> dict[str, Any]:
    if hasattr(item, "path"):
        return {
            "type": "diff",
            "path": item.path,
            "oldText": item.old_text,
            "newText": item.new_text,
        }
    return {"type": "content", "content": {"type": "text", "text": item.text}}


def usage_to_wire(usage: dict[str, int]) -> dict[str, int]:
    """Anthropic usage fields in camelCase (inputTokens, cacheReadInputTokens, …)."""
    from agent_ls.lsp.params import camel

    return {camel(k): v for k, v in usage.items() if isinstance(v, int)}


def event_to_update(event: Any) -> dict[str, Any] | None:
    """A turn event as the `update` of `agent/session/update`, or None if clients never see it."""
    from agent_ls.agent import events as ev

    match event:
        case ev.UserMessage(entry_id=entry_id, content=content):
            return {"kind": "user_message", "entryId": entry_id, "content": content}
        case ev.TextChunk(text=text):
            return {"kind": "agent_message_chunk", "content": {"type": "text", "text": text}}
        case ev.ThoughtChunk(text=text):
            return {"kind": "agent_thought_chunk", "content": {"type": "text", "text": text}}
        case ev.ToolCallStarted():
            return {
                "kind": "tool_call",
                "toolCallId": event.tool_call_id,
                "title": event.title,
                "toolKind": event.kind,
                "status": event.status,
                "rawInput": event.raw_input,
                "locations": [{"path": p} for p in event.locations],
                "content": [],
            }
        case ev.ToolCallUpdated():
            return {
                "kind": "tool_call_update",
                "toolCallId": event.tool_call_id,
                "status": event.status,
                "content": [_tool_content(c) for c in event.content],
                "locations": [{"path": p} for p in event.locations],
            }
        case ev.UsageReported(usage=usage, model=model):
            return {"kind": "usage", "usage": usage_to_wire(usage), "model": model}
        case ev.AssistantMessage(entry_id=entry_id):
            return {"kind": "agent_message_end", "entryId": entry_id}
        case ev.CheckpointCreated(checkpoint=checkpoint):
            return {"kind": "checkpoint", "checkpoint": checkpoint}
    return None
