"""A provider that may still be in the making, usable by a turn at once.

The service builds the one provider in a worker thread (importing the SDK takes seconds) and
every turn waits for that one build. Each wait is shielded: cancelling a turn that is still
waiting ends that turn (`stopReason: "cancelled"`, through the loop's own cancel path) and leaves
the build going for the next prompt, instead of cancelling the shared future for good.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from agent_ls.agent.providers.base import ModelRequest, Provider, ProviderEvent, ProviderFailure


class PendingProvider:
    """Implements Provider by waiting for the shared build, then delegating to it."""

    def __init__(self, build: asyncio.Future[Provider]) -> None:
        self._build = build

    async def _ready(self) -> Provider:
        return await asyncio.shield(self._build)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        provider = await self._ready()
        async with contextlib.aclosing(provider.stream(request)) as events:
            async for event in events:
                yield event

    async def complete(self, request: ModelRequest) -> str | ProviderFailure:
        return await (await self._ready()).complete(request)
