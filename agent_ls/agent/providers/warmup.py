"""Load what the SDK's first request loads, in the provider's build thread, not on the loop.

The `anthropic` SDK imports its async network stack (anyio's asyncio backend, tracing
propagators, …) on the first request. Done on the event loop, that stalled every other request
of the server for 0.3 to 1 s at the first prompt. So the build thread sends one request through a
throwaway client on its own loop to a loopback port that refuses connections (a socket bound
but not listening): the whole request path is loaded, nothing leaves the machine, and the real
client's connection pool is never touched from another loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Iterator

log = logging.getLogger(__name__)


def warm_up_sdk() -> None:
    """Best effort: a failure here only means the first prompt loads the rest itself."""
    request = _refused_request()
    try:
        asyncio.run(request)
    except Exception as exc:  # e.g. called where a loop runs: then the request never started
        request.close()
        log.debug("SDK warm-up skipped: %s", exc)


async def _refused_request() -> None:
    import anthropic

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connecting is refused at once
        port = closed.getsockname()[1]
        client = anthropic.AsyncAnthropic(
            api_key="warm-up", base_url=f"http://127.0.0.1:{port}", max_retries=0, timeout=5
        )
        async with client:
            with contextlib.suppress(anthropic.APIConnectionError):
                await client.messages.create(
                    model="warm-up",
                    max_tokens=1,
                    messages=[{"role": "user", "content": "warm-up"}],
                    stream=True,
                )


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection while the SDK loads, and none of what it loaded scanned again.

    Importing the SDK makes hundreds of thousands of long-lived objects; each collection their
    number triggers holds the interpreter lock, and a full one stalled the event loop for
    100-150 ms. Paused for the load, then frozen (`gc.freeze`: moved out of the generations every
    later collection walks), they cost the loop nothing now or later.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
