"""The core's turn events and stored transcript as ACP `session/update`s (the SDK's types).

The one place that shapes ACP updates: a live turn and a `session/load` replay build tool calls
with the same functions, so a reloaded session looks as it did when it streamed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    ContentToolCallContent,
    FileEditToolCallContent,
    TerminalToolCallContent,
    TextContentBlock,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    UsageUpdate,
    UserMessageChunk,
)

from agent_ls.agent import events as ev
from agent_ls.core.transcript import MessageItem, TranscriptItem
from agent_ls.lsp.protocol import raw_output

Update = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | UsageUpdate
)


def _text(text: str) -> TextContentBlock:
    return TextContentBlock(type="text", text=text)


def _locations(paths: list[str]) -> list[ToolCallLocation]:
    return [ToolCallLocation(path=p) for p in paths]


def agent_text(text: str, message_id: str | None) -> AgentMessageChunk:
    return AgentMessageChunk(
        session_update="agent_message_chunk", content=_text(text), message_id=message_id
    )


def tool_call_start(call: ev.ToolCallStarted) -> ToolCallStart:
    return ToolCallStart(
        session_update="tool_call",
        tool_call_id=call.tool_call_id,
        title=call.title,
        kind=call.kind,
        status=call.status,
        raw_input=call.raw_input,
        locations=_locations(call.locations),
    )


def _tool_content(item: ev.ToolCallContent) -> FileEditToolCallContent | ContentToolCallContent:
    if isinstance(item, ev.DiffContent):
        return FileEditToolCallContent(
            type="diff", path=item.path, old_text=item.old_text, new_text=item.new_text or ""
        )
    return ContentToolCallContent(type="content", content=_text(item.text))


def review_content(
    call: ev.ToolCallStarted,
) -> list[FileEditToolCallContent | ContentToolCallContent]:
    """What a call under review would change (an edit's diff), for the permission request."""
    return [_tool_content(c) for c in call.content]


def tool_call_progress(event: ev.ToolCallUpdated) -> ToolCallProgress:
    return ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=event.tool_call_id,
        status=event.status,
        content=[_tool_content(c) for c in event.content] or None,
        locations=_locations(event.locations) or None,
        raw_output=None if event.raw_output is None else raw_output(event.raw_output),
    )


def terminal_progress(tool_call_id: str, terminal_id: str) -> ToolCallProgress:
    """The running command's terminal, shown in its tool call."""
    return ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=tool_call_id,
        status="in_progress",
        content=[TerminalToolCallContent(type="terminal", terminal_id=terminal_id)],
    )


def context_used(usage: Mapping[str, int]) -> int:
    """Tokens the conversation fills: the prompt (cached or not) plus the reply."""
    keys = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(int(usage.get(k) or 0) for k in (*keys, "output_tokens"))


def event_update(event: ev.AgentEvent, message_id: str, context_window: int) -> Update | None:
    """A live turn event as an update; None for events ACP clients do not show.

    The user's prompt is not echoed (the client shows what it sent); checkpoints are reported
    by the `/checkpoints` command and the `_agent-ls/checkpoint/list` extension.
    """
    match event:
        case ev.TextChunk(text=text):
            return agent_text(text, message_id)
        case ev.ThoughtChunk(text=text):
            return AgentThoughtChunk(
                session_update="agent_thought_chunk", content=_text(text), message_id=message_id
            )
        case ev.ToolCallStarted():
            return tool_call_start(event)
        case ev.ToolCallUpdated():
            return tool_call_progress(event)
        case ev.UsageReported(usage=usage):
            return UsageUpdate(
                session_update="usage_update", used=context_used(usage), size=context_window
            )
    return None


def replay(items: list[TranscriptItem]) -> Iterator[Update]:
    """A stored transcript as the updates `session/load` sends: each message's chunks carry its
    entry id as `messageId`; tool calls come with their results."""
    for item in items:
        if not isinstance(item, MessageItem):
            continue
        blocks = [{"type": "text", "text": item.content}] if isinstance(item.content, str) else []
        blocks += item.content if isinstance(item.content, list) else []
        if item.role == "user":
            for block in blocks:
                if block.get("type") == "text":
                    yield UserMessageChunk(
                        session_update="user_message_chunk",
                        content=_text(str(block.get("text", ""))),
                        message_id=item.entry_id,
                    )
        elif item.role == "assistant":
            yield from _assistant(item, blocks)
        else:
            yield from _results(blocks)


def _assistant(item: MessageItem, blocks: list[dict[str, Any]]) -> Iterator[Update]:
    calls = {call.tool_call_id: call for call in item.tool_calls}
    for block in blocks:
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            yield agent_text(str(block["text"]), item.entry_id)
        elif kind == "thinking" and block.get("thinking"):
            yield AgentThoughtChunk(
                session_update="agent_thought_chunk",
                content=_text(str(block["thinking"])),
                message_id=item.entry_id,
            )
        elif kind == "tool_use" and str(block.get("id")) in calls:
            yield tool_call_start(calls[str(block["id"])])


def _results(blocks: list[dict[str, Any]]) -> Iterator[Update]:
    for block in blocks:
        if block.get("type") != "tool_result":
            continue
        content = block.get("content")
        if isinstance(content, list):
            content = "\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
        status = "failed" if block.get("is_error") else "completed"
        yield ToolCallProgress(
            session_update="tool_call_update",
            tool_call_id=str(block.get("tool_use_id")),
            status=status,
            content=[ContentToolCallContent(type="content", content=_text(str(content or "")))],
        )
