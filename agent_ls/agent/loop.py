"""One agent turn: the user's prompt, model responses and tool calls until the model stops.

Every message is appended to the session as it completes, so a crash or a cancel loses at most
the response being streamed, and even that is kept when it was cut short. Only the caller's
cancellation ends a turn early, and it is turned into ``stop_reason="cancelled"`` rather than an
exception; provider failures become ``stop_reason="error"``; tool failures go to the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agent_ls.agent import tools
from agent_ls.agent.compaction import maybe_compact
from agent_ls.agent.config import AgentConfig
from agent_ls.agent.conversation import build_messages
from agent_ls.agent.events import (
    AssistantMessage,
    TextChunk,
    TextContent,
    ThoughtChunk,
    ToolCallStarted,
    ToolCallUpdated,
    UsageReported,
    UserMessage,
)
from agent_ls.agent.host import ToolHost
from agent_ls.agent.permissions import Permissions, authorize
from agent_ls.agent.providers.base import (
    BlockStop,
    MessageDone,
    ModelRequest,
    Provider,
    ProviderFailure,
    TextDelta,
    ThinkingDelta,
)

StopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled", "error"]
CANCELLED = "cancelled by user"
_STOP_REASONS: Mapping[str, StopReason] = {
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
}


class SessionView(Protocol):
    def active_path(self) -> list[dict[str, Any]]: ...


class SessionWriterLike(Protocol):
    """What a turn needs of ``sessions.SessionWriter``."""

    @property
    def session(self) -> SessionView: ...

    def append(self, entry: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TurnResult:
    stop_reason: StopReason
    entry_id: str | None
    usage: dict[str, int]
    error: str | None = None


@dataclass(frozen=True)
class _Call:
    name: str
    event: ToolCallStarted


@dataclass
class _Streamed:
    """What one response has produced so far, to keep it when the response is cut short."""

    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, _Call] = field(default_factory=dict)

    def partial_content(self) -> list[dict[str, Any]]:
        """Text and complete tool calls; thinking is dropped (unsigned thinking is invalid)."""
        kept = []
        for _, block in sorted(self.blocks.items()):
            if block.get("type") == "text" and block.get("text", "").strip():
                kept.append({"type": "text", "text": block["text"]})
            elif block.get("type") == "tool_use" and block.get("id") in self.calls:
                kept.append(block)
        return kept


class _Turn:
    def __init__(
        self,
        provider: Provider,
        writer: SessionWriterLike,
        host: ToolHost,
        config: AgentConfig,
        permissions: Permissions,
    ) -> None:
        self.provider = provider
        self.writer = writer
        self.host = host
        self.config = config
        self.permissions = permissions
        self.ctx = tools.ToolContext(host, config.command_timeout)
        self.extra = {tool.name: tool for tool in host.more_tools()}
        self.entry_id: str | None = None
        self.usage: dict[str, int] = {}
        self.streamed: _Streamed | None = None
        self.open_calls: list[_Call] = []
        self.results: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        stored = self.writer.append(entry)
        self.entry_id = stored["id"]
        return stored

    def result(self, stop_reason: StopReason, error: str | None = None) -> TurnResult:
        return TurnResult(stop_reason, self.entry_id, dict(self.usage), error)

    async def run(self, prompt: list[dict[str, Any]]) -> TurnResult:
        user = self.append({"type": "message", "role": "user", "content": prompt})
        await self.host.emit(UserMessage(user["id"], prompt))
        system = self.config.system_text(self.host.roots)
        await maybe_compact(self.provider, self.writer, self.config)
        for _ in range(self.config.max_iterations):
            outcome = await self.respond(system)
            if isinstance(outcome, ProviderFailure):
                await self.keep_partial("not run: the model's response failed")
                return self.result("error", outcome.message)
            await self.save_response(outcome)
            calls = [b for b in outcome.content if b.get("type") == "tool_use"]
            if outcome.stop_reason != "tool_use" or not calls:
                if calls:
                    await self.close_calls(f"not run: the response stopped ({outcome.stop_reason})")
                return self.result(_STOP_REASONS.get(outcome.stop_reason, "end_turn"))
            await self.run_tools()
        return self.result(
            "max_turn_requests",
            f"The agent stopped after {self.config.max_iterations} model calls in one turn; "
            'what it did stays in the conversation: send "continue" to let it go on.',
        )

    async def respond(self, system: str) -> MessageDone | ProviderFailure:
        """Stream one model response, emitting events as they arrive."""
        # a long path takes a while to convert: off the loop, so other requests go on meanwhile
        messages = await asyncio.to_thread(build_messages, self.writer.session.active_path())
        request = ModelRequest(
            model=self.config.model,
            system=system,
            messages=messages,
            tools=[*tools.tool_definitions(), *(t.definition() for t in self.extra.values())],
            max_tokens=self.config.max_tokens,
            thinking_budget=self.config.thinking_budget,
        )
        self.streamed = streamed = _Streamed()
        async with contextlib.aclosing(self.provider.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    block = streamed.blocks.setdefault(event.index, {"type": "text", "text": ""})
                    block["text"] = block.get("text", "") + event.text
                    await self.host.emit(TextChunk(event.text))
                elif isinstance(event, ThinkingDelta):
                    await self.host.emit(ThoughtChunk(event.thinking))
                elif isinstance(event, BlockStop):
                    streamed.blocks[event.index] = event.block
                    if event.block.get("type") == "tool_use":
                        name = str(event.block["name"])
                        call = tools.describe_call(
                            str(event.block["id"]), name, event.block["input"], self.host
                        )
                        if name in self.extra:
                            call = dataclasses.replace(call, title=self.extra[name].title)
                        streamed.calls[call.tool_call_id] = _Call(name, call)
                        await self.host.emit(call)
                elif isinstance(event, MessageDone | ProviderFailure):
                    return event
        return ProviderFailure("The provider ended the response without a result.", "other")

    async def save_response(self, done: MessageDone) -> None:
        content = [
            b
            for b in done.content
            if not (b.get("type") == "text" and not b.get("text", "").strip())
        ]
        self.append(
            {
                "type": "message",
                "role": "assistant",
                "content": content,
                "model": done.model,
                "usage": done.usage,
                "stopReason": done.stop_reason,
            }
        )
        assert self.streamed is not None
        self.open_calls = [
            self.streamed.calls[b["id"]] for b in content if b.get("type") == "tool_use"
        ]
        self.results = []
        self.streamed = None
        for key, value in done.usage.items():
            self.usage[key] = self.usage.get(key, 0) + value
        await self.host.emit(AssistantMessage(self.entry_id or ""))
        await self.host.emit(UsageReported(dict(done.usage), done.model))

    async def keep_partial(self, reason: str) -> None:
        """Store what streamed of an unfinished response, answering its complete tool calls."""
        streamed, self.streamed = self.streamed, None
        if streamed is None:
            return
        content = streamed.partial_content()
        if not content:
            return
        self.append(
            {
                "type": "message",
                "role": "assistant",
                "content": content,
                "model": self.config.model,
                "stopReason": "error",
            }
        )
        await self.host.emit(AssistantMessage(self.entry_id or ""))
        self.open_calls = [streamed.calls[b["id"]] for b in content if b.get("type") == "tool_use"]
        self.results = []
        await self.close_calls(reason)

    async def run_tools(self) -> None:
        for call in list(self.open_calls):
            event = self.reviewed(call)
            refusal = await authorize(event, call.name, self.permissions, self.host)
            if refusal is not None:
                outcome = tools.ToolOutcome(refusal, [TextContent(refusal)], is_error=True)
            else:
                await self.host.emit(
                    ToolCallUpdated(event.tool_call_id, "in_progress", locations=event.locations)
                )
                outcome = await self.execute(call.name, event.raw_input)
            await self.finish_call(call, outcome)
        self.append({"type": "message", "role": "tool_result", "content": self.results})
        self.results = []

    def reviewed(self, call: _Call) -> ToolCallStarted:
        """The call as the user is asked about it: with what it would change, when it asks."""
        event = call.event
        if self.permissions.decide(call.name, event.kind, event.raw_input) != "ask":
            return event
        shown = tools.preview(call.name, event.raw_input, self.ctx)
        return dataclasses.replace(event, content=shown) if shown else event

    async def execute(self, name: str, tool_input: dict[str, Any]) -> tools.ToolOutcome:
        """A built-in tool, or one the host brings; a failing host tool is an error result."""
        extra = self.extra.get(name)
        if extra is None:
            return await tools.execute(name, tool_input, self.ctx)
        try:
            text, is_error = await extra.call(tool_input)
        except Exception as exc:  # the server died or answered nonsense: the model is told
            text, is_error = f"{name} failed: {type(exc).__name__}: {exc}", True
        return tools.ToolOutcome(text, [TextContent(text)], is_error=is_error)

    async def finish_call(self, call: _Call, outcome: tools.ToolOutcome) -> None:
        event = call.event
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": event.tool_call_id,
            "content": outcome.text or "(no output)",
        }
        if outcome.is_error:
            block["is_error"] = True
        self.results.append(block)
        self.open_calls.remove(call)
        status = "failed" if outcome.is_error else "completed"
        await self.host.emit(
            ToolCallUpdated(
                event.tool_call_id,
                status,
                list(outcome.content),
                event.locations,
                outcome.raw_output,
            )
        )

    async def close_calls(self, reason: str) -> None:
        """Answer every tool call still open with an error result, and store the results."""
        for call in list(self.open_calls):
            await self.finish_call(
                call, tools.ToolOutcome(reason, [TextContent(reason)], is_error=True)
            )
        if self.results:
            self.append({"type": "message", "role": "tool_result", "content": self.results})
            self.results = []


async def run_turn(
    provider: Provider,
    writer: SessionWriterLike,
    prompt: Sequence[Mapping[str, Any]] | str,
    host: ToolHost,
    config: AgentConfig,
    *,
    permissions: Permissions | None = None,
) -> TurnResult:
    """Run one turn to its end. Cancelling the task running it ends the turn cleanly."""
    blocks = (
        [{"type": "text", "text": prompt}] if isinstance(prompt, str) else [dict(b) for b in prompt]
    )
    turn = _Turn(provider, writer, host, config, permissions or Permissions(config.permissions))
    try:
        return await turn.run(blocks)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        await turn.keep_partial(CANCELLED)
        await turn.close_calls(CANCELLED)
        return turn.result("cancelled")
