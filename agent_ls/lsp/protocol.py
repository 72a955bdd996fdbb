"""The wire contract: method names, params types, error codes and result shapes.

The only module that knows the wire. Every custom method's params are an attrs class here;
`params.structure` checks them strictly so a bad request gets -32602 naming the field, instead of
pygls' silent drop. The core answers with typed objects (`SessionInfo`, `CheckpointSummary`,
`TranscriptItem`, `RestoreReport`, turn events); the `*_to_wire` functions below turn them into
the camelCase JSON of docs/protocol.md, each shape in exactly one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from agent_ls.agent import events as ev
from agent_ls.agent.permissions import Rule, prompt_options
from agent_ls.core.images import BadImage, wire_image

if TYPE_CHECKING:
    from agent_ls.agent.loop import TurnResult
    from agent_ls.checkpoints.diffs import FileDiff
    from agent_ls.checkpoints.listing import CheckpointSummary
    from agent_ls.core.checkpoints import RestoreReport
    from agent_ls.core.prompting import Attachment, PromptOutcome
    from agent_ls.core.transcript import TranscriptItem
    from agent_ls.sessions.search import SearchHit
    from agent_ls.sessions.store import SessionInfo

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
SESSION_RETRY = "agent/session/retry"
SESSION_EXPORT = "agent/session/export"
SESSION_IMPORT = "agent/session/import"
SESSION_REWIND = "agent/session/rewind"
CHECKPOINT_REVERT_HUNKS = "agent/checkpoint/revertHunks"
SESSION_SEARCH = "agent/session/search"
SESSION_SET_METADATA = "agent/session/setMetadata"
SESSION_RESET = "agent/session/reset"
SESSION_TRASH = "agent/session/trash"
SESSION_UNDELETE = "agent/session/undelete"
SESSION_COMPACT = "agent/session/compact"

# Notifications.
SESSION_CANCEL = "agent/session/cancel"  # client → server
SESSION_UPDATE = "agent/session/update"  # server → client
SESSION_LIST_CHANGED = "agent/session/listChanged"  # server → client

# Requests, server → client.
REQUEST_PERMISSION = "agent/session/requestPermission"

UPDATE_KINDS = (
    "user_message",
    "agent_message_chunk",
    "agent_thought_chunk",
    "tool_call",
    "tool_call_update",
    "agent_message_end",
    "usage",
    "checkpoint",
    "turn_end",
)
"""The `update.kind` values of `agent/session/update`, one per turn event."""

# Error codes. Application codes sit at -32010 and up, clear of the values JSON-RPC and LSP
# reserve (-32700..-32600, -32002, -32001, -32800..-32803); every error carries a stable
# `data.kind` that clients switch on.
ERRORS: dict[str, int] = {
    "invalid_params": -32602,  # JSON-RPC's own meaning
    "internal": -32603,  # JSON-RPC's own meaning: the store or the file system failed
    "session_not_found": -32010,
    "session_busy": -32011,
    "checkpoint_failed": -32012,  # ambiguous id, unreadable blob: a restore's conflicts are results
    "checkpoint_not_found": -32013,
    "session_exists": -32014,  # new {sessionId} names a session the workspace (or its trash) has
}


def error_data(kind: str, **fields: Any) -> dict[str, Any]:
    """The `data` of an error: its kind, then camelCase details (`ownerPid`)."""
    from agent_ls.lsp.params import camel

    return {"kind": kind, **{camel(k): v for k, v in fields.items()}}


_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CHECKPOINT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}:[A-Za-z0-9_-]{1,64}$")
_RULE_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_LIMIT = 1000
MAX_NAME = 200


def _session_id(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _SESSION_ID.match(value):
        raise ValueError(f"{_wire(attribute)}: not a session id (letters, digits, ., _ and -)")


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


def _custom_id(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _CUSTOM_ID.match(value):
        raise ValueError(
            f"{_wire(attribute)}: a session id is 1 to 128 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )


MAX_TAGS = 64
MAX_TAG = 64
MAX_METADATA_VALUE = 1000
MAX_QUERY = 1000


def _tags(_: Any, attribute: attrs.Attribute[Any], value: list[str] | None) -> None:
    if value is None:
        return
    if len(value) > MAX_TAGS:
        raise ValueError(f"{_wire(attribute)}: at most {MAX_TAGS} tags")
    for i, tag in enumerate(value):
        if not (0 < len(tag) <= MAX_TAG) or tag != tag.strip() or not tag.isprintable():
            raise ValueError(
                f"{_wire(attribute)}[{i}]: a tag is 1 to {MAX_TAG} printable characters,"
                " without spaces at either end"
            )


def _metadata(_: Any, attribute: attrs.Attribute[Any], value: dict[str, Any] | None) -> None:
    if value is None:
        return
    for key, item in value.items():
        if not (0 < len(key) <= MAX_TAG) or not key.isprintable():
            raise ValueError(f"{_wire(attribute)}: a key is 1 to {MAX_TAG} printable characters")
        if item is not None and not (isinstance(item, str) and len(item) <= MAX_METADATA_VALUE):
            raise ValueError(
                f"{_wire(attribute)}.{key}: a value is a string of at most"
                f" {MAX_METADATA_VALUE} characters, or null to remove the key"
            )


def _query(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if len(value) > MAX_QUERY:
        raise ValueError(f"{_wire(attribute)}: at most {MAX_QUERY} characters")


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
    touched_path: str | None = None
    tags: list[str] | None = attrs.field(default=None, validator=_tags)
    metadata: dict[str, Any] | None = attrs.field(default=None, validator=_metadata)


@attrs.define
class NewParams:
    name: str | None = attrs.field(default=None, validator=_name)
    workspace: str | None = None
    session_id: str | None = attrs.field(default=None, validator=_custom_id)


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
        if kind == "image":
            try:
                wire_image(block)
            except BadImage as exc:
                raise ValueError(f"prompt[{i}]: {exc}") from None
            continue
        raise ValueError(f"prompt[{i}]: expected a text, resource_link or image content block")


@attrs.define
class PromptParams:
    prompt: str | list[dict[str, Any]] = attrs.field(validator=_prompt)
    session_id: str | None = attrs.field(default=None, validator=_session_id)
    context: list[ContextRef] | None = None
    work_done_token: str | int | None = None
    replace_entry_id: str | None = attrs.field(default=None, validator=_entry_id)


@attrs.define
class CheckpointDiffParams:
    checkpoint_id: str = attrs.field(validator=_checkpoint_id)
    uri: str | None = None


def _files(_: Any, attribute: attrs.Attribute[Any], value: list[str] | None) -> None:
    if value is not None and not value:
        raise ValueError(f"{_wire(attribute)}: name at least one file uri, or leave it out")


@attrs.define
class CheckpointRestoreParams:
    checkpoint_id: str = attrs.field(validator=_checkpoint_id)
    scope: Literal["files", "conversation", "both"] = "files"
    dry_run: bool = False
    force: bool = False
    partial: bool = False
    files: list[str] | None = attrs.field(default=None, validator=_files)


@attrs.define
class RevokeParams:
    session_id: str = attrs.field(validator=_session_id)
    rule_id: str = attrs.field(validator=_rule_id)


@attrs.define
class RetryParams:
    session_id: str = attrs.field(validator=_session_id)
    work_done_token: str | int | None = None


@attrs.define
class ExportParams:
    """`path` (a path or file URI, absolute) is where the server writes; without it the text
    comes back in the answer (bundles always need a path)."""

    session_id: str = attrs.field(validator=_session_id)
    format: Literal["markdown", "html", "jsonl", "bundle"] = "markdown"
    path: str | None = None
    active_only: bool = False

    def __attrs_post_init__(self) -> None:
        if self.format == "bundle" and self.path is None:
            raise ValueError("path: required for a bundle (it is binary)")


@attrs.define
class ImportParams:
    """A bundle (`path`), or another agent's sessions (`from`, with an optional `path`)."""

    path: str | None = None
    from_: Literal["claude-code", "pi", "codex"] | None = None
    all: bool = False
    workspace: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.from_ is None and self.path is None:
            raise ValueError("path: required to import a bundle (or give from)")


@attrs.define
class RewindParams:
    session_id: str = attrs.field(validator=_session_id)
    entry_id: str = attrs.field(validator=_entry_id)
    scope: Literal["files", "conversation", "both"] = "both"
    dry_run: bool = False
    force: bool = False
    partial: bool = False
    files: list[str] | None = attrs.field(default=None, validator=_files)


def _hunks(_: Any, attribute: attrs.Attribute[Any], value: list[int]) -> None:
    if not value:
        raise ValueError(f"{_wire(attribute)}: name at least one hunk index")
    if any(i < 0 for i in value):
        raise ValueError(f"{_wire(attribute)}: hunk indexes start at 0")


@attrs.define
class RevertHunksParams:
    checkpoint_id: str = attrs.field(validator=_checkpoint_id)
    uri: str
    hunks: list[int] = attrs.field(validator=_hunks)
    dry_run: bool = False


@attrs.define
class SwitchParams:
    session_id: str = attrs.field(validator=_session_id)
    focus_entry_id: str | None = attrs.field(default=None, validator=_entry_id)


@attrs.define
class SearchParams:
    query: str = attrs.field(validator=_query)
    workspace: str | None = None
    all_workspaces: bool = False
    limit: int = attrs.field(default=20, validator=_limit)
    cursor: str | None = None


@attrs.define
class SetMetadataParams:
    session_id: str = attrs.field(validator=_session_id)
    tags: list[str] | None = attrs.field(default=None, validator=_tags)
    metadata: dict[str, Any] | None = attrs.field(default=None, validator=_metadata)


@attrs.define
class TrashParams:
    workspace: str | None = None
    all_workspaces: bool = False


PARAMS: dict[str, type[Any]] = {
    SESSION_LIST: ListParams,
    SESSION_NEW: NewParams,
    SESSION_SWITCH: SwitchParams,
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
    SESSION_RETRY: RetryParams,
    SESSION_EXPORT: ExportParams,
    SESSION_IMPORT: ImportParams,
    SESSION_REWIND: RewindParams,
    CHECKPOINT_REVERT_HUNKS: RevertHunksParams,
    SESSION_SEARCH: SearchParams,
    SESSION_SET_METADATA: SetMetadataParams,
    SESSION_RESET: SessionParams,
    SESSION_TRASH: TrashParams,
    SESSION_UNDELETE: SessionParams,
    SESSION_COMPACT: SessionParams,
}


def compact_to_wire(entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """What `agent/session/compact` did: nothing (too short), or the summary it stored."""
    if entry is None:
        return {"compacted": False}
    return {
        "compacted": True,
        "entryId": entry["id"],
        "summary": entry["summary"],
        "tokensBefore": entry.get("tokensBefore"),
    }


def checkpoint_id(session_id: str, entry_id: str) -> str:
    """Checkpoint ids carry their session so diff/restore need no session lookup."""
    return f"{session_id}:{entry_id}"


def split_checkpoint_id(value: str) -> tuple[str, str]:
    session_id, entry_id = value.split(":", 1)
    return session_id, entry_id


def attachment(ref: ContextRef) -> Attachment:
    """A context entry as the core's attachment; a selection ending at a line's start ends on
    the line before it."""
    from agent_ls.core.prompting import Attachment
    from agent_ls.core.sessions import uri_to_path

    path = uri_to_path(ref.uri)
    if ref.range is None:
        return Attachment(path)
    start, end = ref.range.start.line, ref.range.end.line
    if ref.range.end.character == 0 and end > start:
        end -= 1
    return Attachment(path, (start, end))


def session_info_to_wire(info: SessionInfo, *, active: bool, live: bool) -> dict[str, Any]:
    """A `SessionInfo`."""
    out: dict[str, Any] = {
        "sessionId": info.session_id,
        "workspace": str(info.workspace),
        "createdAt": info.created_at,
        "modifiedAt": info.modified_at,
        "messageCount": info.message_count,
        "firstMessage": info.first_message or "",
        "active": active,
        "live": live,
        "tags": info.tags,
        "metadata": info.metadata,
    }
    if info.name:
        out["name"] = info.name
    if info.parent_session_id:
        out["parentSessionId"] = info.parent_session_id
    return out


def list_to_wire(sessions: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """The `agent/session/list` result."""
    result: dict[str, Any] = {"sessions": sessions}
    if next_cursor:
        result["nextCursor"] = next_cursor
    return result


def transcript_to_wire(
    session_id: str,
    session: dict[str, Any] | None,
    items: list[TranscriptItem],
    has_more: bool,
    focus_entry_id: str | None = None,
) -> dict[str, Any]:
    """A transcript page: `switch` and `resumeRecent` name the session, `history` does not;
    a switch to a search hit echoes the entry to scroll to."""
    out: dict[str, Any] = {} if session is None else {"session": session}
    out["items"] = [transcript_item_to_wire(item, session_id) for item in items]
    out["hasMore"] = has_more
    if focus_entry_id is not None:
        out["focusEntryId"] = focus_entry_id
    return out


def recorded_checkpoint(session_id: str, summary: CheckpointSummary) -> dict[str, Any]:
    """The fields of a `Checkpoint` its entry records; the transcript's checkpoint item and the
    live `checkpoint` update both hold them, built here, so they cannot drift apart."""
    out: dict[str, Any] = {
        "checkpointId": checkpoint_id(session_id, summary.checkpoint_id),
        "entryId": summary.checkpoint_id,
        "turnId": summary.turn_id,
        "createdAt": summary.created_at,
        "files": [
            {
                "uri": Path(f.path).as_uri(),
                "path": f.path,
                "operation": f.operation,
                "restorable": f.restorable,
            }
            for f in summary.files
        ],
    }
    if summary.user_entry_id is not None:
        out["userEntryId"] = summary.user_entry_id
    return out


def checkpoint_to_wire(session_id: str, summary: CheckpointSummary) -> dict[str, Any]:
    """A `Checkpoint`: what the entry recorded, plus its prompt, whether it is on the active
    path, and per file whether a restore would meet a conflict."""
    out = recorded_checkpoint(session_id, summary)
    out["kind"] = summary.kind
    out["prompt"] = summary.prompt
    out["active"] = summary.active
    for wire, file in zip(out["files"], summary.files, strict=True):
        wire["conflict"] = file.conflict
    return out


def tool_call_to_wire(call: ev.ToolCallStarted) -> dict[str, Any]:
    """A tool call's title, kind and input, as the server titles it (clients keep no copy)."""
    return {
        "toolCallId": call.tool_call_id,
        "title": call.title,
        "toolKind": call.kind,
        "rawInput": call.raw_input,
        "locations": [{"path": p} for p in call.locations],
    }


def transcript_item_to_wire(item: TranscriptItem, session_id: str) -> dict[str, Any]:
    """A `TranscriptItem`. Messages keep Anthropic content blocks as they are stored, so a
    client renders streamed and reloaded turns alike; `toolCalls` titles their tool_use blocks."""
    from agent_ls.core.transcript import CheckpointItem, CompactionItem, MessageItem, TurnEndItem

    base: dict[str, Any] = {"entryId": item.entry_id, "ts": item.ts}
    match item:
        case MessageItem():
            out = {**base, "kind": item.role, "content": _shown(item.content)}
            if item.model is not None:
                out["model"] = item.model
            if item.usage is not None:
                out["usage"] = item.usage
            if item.stop_reason is not None:
                out["stopReason"] = item.stop_reason
            if item.tool_calls:  # the input is in `content` already: not sent twice
                out["toolCalls"] = [
                    {k: v for k, v in tool_call_to_wire(c).items() if k != "rawInput"}
                    for c in item.tool_calls
                ]
            return out
        case CheckpointItem():
            recorded = recorded_checkpoint(session_id, item.checkpoint)
            return {
                **recorded,
                **base,
                "kind": "checkpoint",
                "checkpointKind": item.checkpoint.kind,
            }
        case CompactionItem():
            return {**base, "kind": "compaction", "summary": item.summary}
        case TurnEndItem():
            return turn_end_to_wire(item.entry_id, item.ts, item.stop_reason, item.error)


def turn_end_to_wire(entry_id: str, ts: str, stop_reason: str, error: str | None) -> dict[str, Any]:
    """A failed or cancelled turn's marker: the transcript item and the live `turn_end` update
    are this one shape, so a reload shows it as it streamed."""
    out: dict[str, Any] = {
        "kind": "turn_end",
        "entryId": entry_id,
        "ts": ts,
        "stopReason": stop_reason,
    }
    if error:
        out["error"] = error
    return out


MAX_DEPTH = 100
"""Stored content nested deeper than this is not sent: encoding the reply would recurse too deep
and the request would go unanswered (a hand-made or corrupt session file; no model writes it)."""


def _shown(content: Any) -> Any:
    """The content as stored, or a note in its place when it nests deeper than MAX_DEPTH."""
    stack = [(content, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            note = f"(this message nests deeper than {MAX_DEPTH} levels and cannot be shown)"
            return [{"type": "text", "text": note}]
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return content


def diff_to_wire(diffs: list[FileDiff]) -> dict[str, Any]:
    """The `agent/checkpoint/diff` result."""
    return {
        "files": [
            {
                "uri": d.uri,
                "path": d.path,
                "operation": d.operation,
                "restorable": d.restorable,
                "before": d.before,
                "after": d.after,
                "diff": d.diff,
                "hunks": [
                    {
                        "index": h.index,
                        "oldStart": h.old_start,
                        "oldLines": h.old_lines,
                        "newStart": h.new_start,
                        "newLines": h.new_lines,
                        "header": h.header,
                    }
                    for h in d.hunks
                ],
            }
            for d in diffs
        ]
    }


def restore_to_wire(report: RestoreReport) -> dict[str, Any]:
    """A `RestoreResult`: the answer of `agent/checkpoint/restore`, `agent/session/rewind` and
    `agent/checkpoint/revertHunks`."""
    out: dict[str, Any] = {
        "applied": report.applied,
        "files": [
            {
                "uri": Path(f.path).as_uri(),
                "path": f.path,
                "operation": f.operation,
                "result": f.result,
                **({"reason": f.reason} if f.reason else {}),
            }
            for f in report.files
        ],
    }
    if report.undo_entry_id:
        out["undoCheckpointId"] = checkpoint_id(report.session_id, report.undo_entry_id)
    if report.moved_conversation:
        out["leafEntryId"] = report.leaf_entry_id
    return out


def prompt_result_to_wire(outcome: PromptOutcome) -> dict[str, Any]:
    """The `agent/session/prompt` result."""
    result: TurnResult = outcome.result
    out: dict[str, Any] = {
        "sessionId": outcome.session_id,
        "stopReason": result.stop_reason,
        "entryId": result.entry_id,
        "usage": usage_to_wire(result.usage),
    }
    if outcome.checkpoint is not None:
        out["checkpointId"] = checkpoint_id(outcome.session_id, outcome.checkpoint.checkpoint_id)
    if result.error:
        out["error"] = result.error
    return out


PERMISSION_OPTIONS: list[dict[str, str]] = [  # the ids a reply may name (order: prompt_options)
    {"optionId": "allow_once", "name": "Allow once", "kind": "allow_once"},
    {"optionId": "allow_always", "name": "Always allow", "kind": "allow_always"},
    {"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
    {"optionId": "reject_always", "name": "Always reject", "kind": "reject_always"},
]


def permission_request(session_id: str, call: ev.ToolCallStarted) -> dict[str, Any]:
    """The params of `agent/session/requestPermission`."""
    call_fields = tool_call_to_wire(call)
    del call_fields["locations"]
    if call.content:  # an edit under review: its diff, not yet written
        call_fields["content"] = [_tool_content(c) for c in call.content]
    return {"sessionId": session_id, "toolCall": call_fields, "options": prompt_options(call)}


def permission_choice(reply: Any) -> str | None:
    """The option kind a `requestPermission` reply selected; None when cancelled or unknown."""
    outcome = (reply or {}).get("outcome") if isinstance(reply, Mapping) else None
    if not isinstance(outcome, Mapping):
        return None
    for option in PERMISSION_OPTIONS:
        if outcome.get("optionId") == option["optionId"]:
            return option["kind"]
    return None


def agent_capabilities(providers: list[str]) -> dict[str, Any]:
    """`capabilities.experimental.agent` in the initialize result."""
    return {
        "version": PROTOCOL_VERSION,
        "sessions": {"fork": True, "rewind": True, "delete": True, "rename": True, "search": True},
        "checkpoints": {
            "restoreScopes": ["files", "conversation", "both"],
            "undo": True,
            "allOrNothing": True,
            "merge": True,
            "revertHunks": True,
        },
        "permissions": {"list": True, "revoke": True},
        "providers": providers,
        "carry": {
            "export": ["markdown", "html", "jsonl", "bundle"],
            "import": ["bundle", "claude-code", "pi", "codex"],
        },
    }


def rule_to_wire(rule: Rule) -> dict[str, Any]:
    """A remembered permission rule, as `agent/permissions/list` returns it."""
    out: dict[str, Any] = {
        "ruleId": rule.rule_id,
        "toolKind": rule.kind,
        "decision": rule.decision,
        "description": rule.description,
    }
    if rule.command is not None:
        out["command"] = rule.command
    return out


def _tool_content(item: ev.ToolCallContent) -> dict[str, Any]:
    if isinstance(item, ev.DiffContent):
        return {
            "type": "diff",
            "path": item.path,
            "oldText": item.old_text,
            "newText": item.new_text,
        }
    return {"type": "content", "content": {"type": "text", "text": item.text}}


def usage_to_wire(usage: Mapping[str, int]) -> dict[str, int]:
    """Anthropic usage fields in camelCase (inputTokens, cacheReadInputTokens, …)."""
    from agent_ls.lsp.params import camel

    return {camel(k): v for k, v in usage.items() if isinstance(v, int)}


def update_to_wire(session_id: str, turn_id: str, event: ev.AgentEvent) -> dict[str, Any] | None:
    """The params of `agent/session/update` for a turn event, or None if clients never see it."""
    update = event_to_update(session_id, event)
    if update is None:
        return None
    return {"sessionId": session_id, "turnId": turn_id, "update": update}


def event_to_update(session_id: str, event: ev.AgentEvent) -> dict[str, Any] | None:
    """A turn event as the `update` of `agent/session/update`."""
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
                **tool_call_to_wire(event),
                "status": event.status,
                "content": [],
            }
        case ev.ToolCallUpdated():
            return {
                "kind": "tool_call_update",
                "toolCallId": event.tool_call_id,
                "status": event.status,
                "content": [_tool_content(c) for c in event.content],
                "locations": [{"path": p} for p in event.locations],
                **({} if event.raw_output is None else {"rawOutput": raw_output(event.raw_output)}),
            }
        case ev.UsageReported(usage=usage, model=model):
            return {"kind": "usage", "usage": usage_to_wire(usage), "model": model}
        case ev.AssistantMessage(entry_id=entry_id):
            return {"kind": "agent_message_end", "entryId": entry_id}
        case ev.CheckpointCreated(checkpoint=checkpoint):
            return {"kind": "checkpoint", "checkpoint": checkpoint_to_wire(session_id, checkpoint)}
        case ev.TurnEnded(entry_id=entry_id, ts=ts, stop_reason=stop_reason, error=error):
            return turn_end_to_wire(entry_id, ts, stop_reason, error)
    return None


def raw_output(output: ev.CommandOutput) -> dict[str, Any]:
    """A command's `rawOutput`: how it ended, and whether the shown tail left output out."""
    out: dict[str, Any] = {"exitCode": output.exit_code, "truncated": output.truncated}
    if output.signal is not None:
        out["signal"] = output.signal
    return out


def import_to_wire(
    imported: list[dict[str, Any]], skipped: int, problems: list[str]
) -> dict[str, Any]:
    """The `agent/session/import` result (`imported` are `SessionInfo`s, already shaped)."""
    return {"imported": imported, "skipped": skipped, "problems": problems}


def search_to_wire(hits: list[SearchHit], next_cursor: str | None) -> dict[str, Any]:
    """The `agent/session/search` result."""
    out: dict[str, Any] = {
        "hits": [
            {
                "sessionId": h.session_id,
                **({"sessionName": h.session_name} if h.session_name else {}),
                "workspace": h.workspace,
                "entryId": h.entry_id,
                "role": h.role,
                "snippet": h.snippet,
                "highlights": h.highlights,
                "ts": h.ts,
            }
            for h in hits
        ]
    }
    if next_cursor:
        out["nextCursor"] = next_cursor
    return out


def trashed_to_wire(session: dict[str, Any], deleted_at: str) -> dict[str, Any]:
    """A trashed session in the `agent/session/trash` result: a SessionInfo + `deletedAt`."""
    return {**session, "deletedAt": deleted_at}
