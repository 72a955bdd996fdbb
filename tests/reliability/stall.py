"""Loop-stall probe: ping the server with `agent/session/list` every 50 ms during a scenario and
keep the longest time any ping waited for its answer.

The server answers `agent/session/list` on its event loop, so a ping that waits long means the
loop was blocked (or starved) that long: the figure is the scenario's longest loop stall. One
ping is in flight at a time; a ping still unanswered when the probe stops counts with the time it
has waited so far, so a loop that never comes back shows up as a stall, not as a missing sample.

Two forms, one per kind of test client:

    async with stall_probe(agent) as probe:       # pytest-lsp client (tests/e2e/harness.py)
        ...
    with raw_stall_probe(server) as probe:        # RawServer (tests/reliability/support.py)
        ...
    probe.longest_ms, probe.pings
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from tests.e2e.harness import Agent
from tests.reliability.support import RawServer, frame

INTERVAL = 0.05
PING = "agent/session/list"
PING_PARAMS = {"limit": 1}


@dataclass
class Stall:
    """What a probe measured: the longest wait of any ping and how many pings answered."""

    longest_ms: float = 0.0
    pings: int = 0
    waits_ms: list[float] = field(default_factory=list)
    failures: list[object] = field(default_factory=list)

    def add(self, waited_s: float, answered: bool) -> None:
        waited_ms = waited_s * 1000
        self.waits_ms.append(waited_ms)
        self.longest_ms = max(self.longest_ms, waited_ms)
        self.pings += answered

    def __str__(self) -> str:
        return f"longest stall {self.longest_ms:.0f} ms over {self.pings} pings"


@contextlib.asynccontextmanager
async def stall_probe(agent: Agent, interval: float = INTERVAL) -> AsyncIterator[Stall]:
    """Ping through the test's own pytest-lsp client while the body runs."""
    stall = Stall()
    stopping = asyncio.Event()

    async def ping_loop() -> None:
        while not stopping.is_set():
            started = time.monotonic()
            ping = asyncio.ensure_future(
                agent.client.protocol.send_request_async(PING, PING_PARAMS)
            )
            stopped = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({ping, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not ping.done():
                # the probe is stopping with a ping in flight: its wait so far is a stall. The
                # ping is left to finish (cancelling it makes pygls fail on the late reply).
                stall.add(time.monotonic() - started, answered=False)
                ping.add_done_callback(lambda done: done.exception())
                return
            stopped.cancel()
            try:
                ping.result()
            except Exception as exc:  # pygls raises JsonRpcException subclasses
                stall.failures.append(exc)
            waited = time.monotonic() - started
            stall.add(waited, answered=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), max(0.0, interval - waited))

    task = asyncio.ensure_future(ping_loop())
    try:
        yield stall
    finally:
        stopping.set()
        await task
    assert not stall.failures, f"stall pings failed: {stall.failures[:3]}"


@contextlib.contextmanager
def raw_stall_probe(server: RawServer, interval: float = INTERVAL) -> Iterator[Stall]:
    """Ping from a thread through a RawServer (its reader thread files the replies by id)."""
    stall = Stall()
    stopping = threading.Event()

    def ping_loop() -> None:
        for n in itertools.count():
            if stopping.is_set():
                return
            # its own ids, and polling `replies` rather than the arrival queue, so the probe never
            # takes a wake-up meant for the test's own `server.wait`
            msg_id = f"stall-{n}"
            started = time.monotonic()
            server.write(
                frame({"jsonrpc": "2.0", "id": msg_id, "method": PING, "params": PING_PARAMS})
            )
            while msg_id not in server.replies and not stopping.is_set() and server.alive():
                time.sleep(0.002)
            reply = server.replies.pop(msg_id, None)
            if reply is None:
                stall.add(time.monotonic() - started, answered=False)
                return
            if "result" not in reply:
                stall.failures.append(reply)
            waited = time.monotonic() - started
            stall.add(waited, answered=True)
            stopping.wait(max(0.0, interval - waited))

    thread = threading.Thread(target=ping_loop, daemon=True)
    thread.start()
    try:
        yield stall
    finally:
        stopping.set()
        thread.join(10)
    assert not stall.failures, f"stall pings failed: {stall.failures[:3]}"
