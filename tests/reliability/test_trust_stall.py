"""The loop-stall probe itself: it sees a server that is frozen for a while, and an idle server
answers its pings quickly."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.harness import connect
from tests.reliability.stall import INTERVAL, raw_stall_probe, stall_probe
from tests.reliability.support import raw_server, record, server_pid

pytestmark = pytest.mark.reliability

FROZEN = 0.2


def test_raw_probe_measures_a_frozen_server(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with raw_server(tmp_path / "home", workspace) as server:
        with raw_stall_probe(server) as idle:
            time.sleep(0.2)
        with raw_stall_probe(server) as frozen:
            time.sleep(0.1)
            os.kill(server.pid, signal.SIGSTOP)
            time.sleep(FROZEN)
            os.kill(server.pid, signal.SIGCONT)
            time.sleep(0.1)
    assert idle.pings >= 2
    assert idle.longest_ms < 200, idle
    assert frozen.longest_ms >= (FROZEN - INTERVAL) * 1000 * 0.9, frozen  # sent ≤ 50 ms in
    record("stall: idle server (raw client)", str(idle))


async def test_probe_measures_a_frozen_server(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    async with connect([workspace], tmp_path / "home") as agent:
        async with stall_probe(agent) as idle:
            await asyncio.sleep(0.2)
        async with stall_probe(agent) as frozen:
            await asyncio.sleep(0.1)
            os.kill(server_pid(agent), signal.SIGSTOP)
            await asyncio.sleep(FROZEN)
            os.kill(server_pid(agent), signal.SIGCONT)
            await asyncio.sleep(0.1)
    assert idle.pings >= 2
    assert idle.longest_ms < 200, idle
    assert frozen.longest_ms >= (FROZEN - INTERVAL) * 1000 * 0.9, frozen  # sent ≤ 50 ms in
    record("stall: idle server (pytest-lsp client)", str(idle))
