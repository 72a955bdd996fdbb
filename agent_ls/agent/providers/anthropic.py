"""The Anthropic Messages API through the official SDK: the only module that imports it.

The SDK is imported on first use (it takes seconds), so the server starts fast. Retries are the
SDK's own (with backoff, honouring retry-after) and only happen before anything has streamed;
once content has arrived a failure ends the response and what streamed is kept by the loop.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.providers.base import (
    ModelRequest,
    ProviderEvent,
    ProviderFailure,
    StreamAssembler,
    status_failure,
)
from agent_ls.agent.providers.warmup import collections_paused, warm_up_sdk

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

DEFAULT_BASE_URL = "https://api.anthropic.com"
NO_KEY_MESSAGE = (
    "No API key. Set ANTHROPIC_API_KEY (export ANTHROPIC_API_KEY=sk-ant-…) before starting the "
    "editor, or pick a local model with ANTHROPIC_BASE_URL=http://localhost:11434 (Ollama) and a "
    "model such as qwen3-coder (any dummy key works there)."
)
LOCAL_PLACEHOLDER_KEY = "agent-ls-local"
_EPHEMERAL = {"type": "ephemeral"}


def plain_event(value: Any) -> Any:
    """An SDK stream event as plain data: what `model_dump(exclude_none=True)` gives.

    Walks the pydantic models' fields instead: pydantic builds a model's serializer on its first
    dump, and the first message_start and content_block_start of a process took about 90 ms to
    dump, which delayed the first text delta of the first turn by as much.
    """
    if isinstance(value, list | tuple):
        return [plain_event(v) for v in value]
    if isinstance(value, dict):  # a dict field (a tool's input): its nulls are data
        return {k: plain_event(v) for k, v in value.items()}
    if hasattr(type(value), "__pydantic_fields__"):
        data = {**value.__dict__, **(getattr(value, "__pydantic_extra__", None) or {})}
        return {k: plain_event(v) for k, v in data.items() if v is not None}
    return value


class AnthropicProvider:
    """Streams responses from the Messages API (or anything that speaks it, e.g. Ollama)."""

    def __init__(self, config: AgentConfig) -> None:
        self._api_key = config.api_key
        self._base_url = config.base_url
        self._max_retries = config.max_retries
        self._client: AsyncAnthropic | None = None
        # Import the SDK and build the client now: the service makes providers in a worker
        # thread, and importing `anthropic` on the event loop would stall it for seconds.
        with collections_paused():
            client = self._get_client()
            if not isinstance(client, ProviderFailure):
                _ = client.messages  # a lazily imported resource, loaded here, not mid-turn
                warm_up_sdk()

    @property
    def base_url(self) -> str:
        return self._base_url or DEFAULT_BASE_URL

    def _get_client(self) -> AsyncAnthropic | ProviderFailure:
        if self._client is not None:
            return self._client
        key = self._api_key or (LOCAL_PLACEHOLDER_KEY if self._base_url else None)
        if key is None:
            return ProviderFailure(NO_KEY_MESSAGE, "auth")
        import anthropic

        self._client = anthropic.AsyncAnthropic(
            api_key=key, base_url=self.base_url, max_retries=self._max_retries
        )
        return self._client

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        client = self._get_client()
        if isinstance(client, ProviderFailure):
            yield client
            return
        try:
            response = await client.messages.create(**build_params(request), stream=True)
        except Exception as exc:
            yield self._failure(exc, streamed=False)
            return
        assembler = StreamAssembler(request.model)
        async with response:
            try:
                async for event in response:
                    for out in assembler.feed(plain_event(event)):
                        yield out
                    # Events already buffered are parsed without ever suspending; yield to the
                    # loop so one fast stream cannot hold up every other request.
                    await asyncio.sleep(0)
            except Exception as exc:
                yield self._failure(exc, streamed=True)
                return
        if not assembler.finished:
            yield ProviderFailure(
                "The response stream ended early (no message_stop); what streamed is kept. "
                "Try again.",
                "stream_cut",
            )

    async def complete(self, request: ModelRequest) -> str | ProviderFailure:
        client = self._get_client()
        if isinstance(client, ProviderFailure):
            return client
        params = build_params(request)
        params.pop("tools", None)
        try:
            message = await client.messages.create(**params)
        except Exception as exc:
            return self._failure(exc, streamed=False)
        return "".join(getattr(block, "text", "") for block in message.content)

    def _failure(self, exc: Exception, *, streamed: bool) -> ProviderFailure:
        """An SDK or transport error as a user-facing failure, the key scrubbed out."""
        import anthropic

        if isinstance(exc, anthropic.APIStatusError):
            detail = exc.api_message or str(exc.body or exc.message)
            failure = status_failure(exc.status_code, detail, _retry_after(exc))
        elif isinstance(exc, anthropic.APITimeoutError):
            failure = ProviderFailure(
                f"The request to {self.base_url} timed out. Try again.", "network"
            )
        elif isinstance(exc, anthropic.APIConnectionError) and not streamed:
            cause = exc.__cause__ or exc
            failure = ProviderFailure(
                f"Cannot reach {self.base_url} ({type(cause).__name__}: {cause}). "
                "Check the network or ANTHROPIC_BASE_URL.",
                "network",
            )
        elif streamed:
            failure = ProviderFailure(
                f"The connection dropped mid-response ({type(exc).__name__}: {exc}); what streamed "
                "is kept. Try again.",
                "stream_cut",
            )
        else:
            failure = ProviderFailure(f"The API call failed: {type(exc).__name__}: {exc}")
        if self._api_key and self._api_key in failure.message:
            failure = ProviderFailure(
                failure.message.replace(self._api_key, "***"), failure.kind, failure.retry_after
            )
        return failure


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(headers[name]) / scale
        except (KeyError, TypeError, ValueError):
            continue
    return None


def build_params(request: ModelRequest) -> dict[str, Any]:
    """Messages API parameters with prompt-cache breakpoints on the system prompt, the last tool
    and the last block of the last user message, so each turn re-reads the prefix from cache."""
    messages = copy.deepcopy(request.messages)
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = [{"type": "text", "text": content, "cache_control": _EPHEMERAL}]
        elif content:
            content[-1]["cache_control"] = _EPHEMERAL
        break
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "system": [{"type": "text", "text": request.system, "cache_control": _EPHEMERAL}],
    }
    if request.tools:
        tools = [dict(tool) for tool in request.tools]
        tools[-1]["cache_control"] = _EPHEMERAL
        params["tools"] = tools
    if request.thinking_budget:
        params["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
    return params
