"""SIGKILL at random moments of streaming turns, then recovery.

Two drivers share the checks:

- the real server over stdio against the fake API (`test_kill_the_server_mid_turn`): each cycle
  starts a server, checks what the previous kill left, runs one whole turn (the session can be
  prompted again; it also times the turn), starts the same kind of turn and kills the server at a
  moment picked from the whole turn's timeline (text, tool calls, file writes, checkpoint);
- the service in a child process with the scripted provider (`test_kill_the_domain_mid_turn`),
  cheaper per kill, so more points fit in the time; a fresh server then opens everything.

After every kill: every complete line that was on disk before the kill is still there, in place;
every line parses and ids are unique once a writer has repaired the tail; every session lists
and opens; every checkpoint's blobs are readable; every file the agent wrote is whole (before or
after, never half).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.sessions import SessionStore
from tests.e2e.harness import REPO, connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability import crash_child
from tests.reliability.support import (
    FAKE_KEY,
    check_file,
    read_lines,
    record,
    scaled,
    server_pid,
    session_files,
    snapshot,
)

pytestmark = pytest.mark.reliability

SERVER_KILLS = scaled(16)
# turns carry 250 kB of tool input: keep compaction out of the scripted replies' way
NO_COMPACTION = {"contextWindow": 10**9}
DOMAIN_KILLS = scaled(36)


# -- checks shared by both drivers --------------------------------------------------------------


def assert_nothing_lost(before: dict[str, list[bytes]], home: Path) -> int:
    """Every complete line of every file before the kill is still there, in the same place.
    Returns how many files had a torn tail."""
    torn = 0
    now = {p.name: p for p in session_files(home)}
    for name, lines in before.items():
        assert name in now, f"{name} vanished"
        current, tail = read_lines(now[name])
        torn += tail != b""
        assert current[: len(lines)] == lines, f"{name}: a complete line changed or was lost"
    return torn


def tear(home: Path, rng: random.Random) -> None:
    """Leave half a line at the end of one session file, as a power cut mid-write would (a
    SIGKILL cannot: one line is one write, which the kernel finishes)."""
    path = rng.choice(session_files(home))
    lines, tail = read_lines(path)
    if tail:
        return
    with open(path, "ab") as handle:
        handle.write(lines[-1][: max(1, len(lines[-1]) // 2)])


def assert_store_sound(home: Path, workspace: Path) -> dict[str, int]:
    """Open every session through the store (repairing torn tails), check every line and every
    checkpoint blob. Returns entries per session id."""
    store = SessionStore(workspace, root=home)
    counts = {}
    try:
        infos, _ = store.list(limit=None)
        on_disk = {p.name for p in session_files(home)}
        assert {info.path.name for info in infos} == on_disk
        blobs = BlobStore(store.dir / "blobs")
        for info in infos:
            store.load(info.session_id).history()
            with store.writer(info.session_id):  # repairs a torn tail under the lock
                pass
            entries = check_file(info.path)
            counts[info.session_id] = len(entries) - 1
            for entry in entries:
                if entry.get("type") != "checkpoint":
                    continue
                for record_ in entry["files"]:
                    if isinstance(record_.get("before"), str) and record_["before"] != "unknown":
                        assert blobs.get(record_["before"]) is not None
    finally:
        store.close()
    return counts


def assert_files_whole(workspace: Path, seeds: dict[int, int]) -> None:
    """Each file the agent wrote holds exactly one of the contents it could hold."""
    notes_ok = {
        crash_child.notes_content(seed, turn, state)
        for seed, last in seeds.items()
        for turn in range(1, last + 2)
        for state in ("before", "after")
    }
    for path in workspace.iterdir():
        if path.name == "notes.txt":
            assert path.read_text() in notes_ok, "notes.txt is half-written"
        elif path.name.startswith("big_"):
            _, seed, turn = path.stem.split("_")
            assert path.read_text() == crash_child.big_content(int(seed), int(turn)), path.name


# -- the real server ------------------------------------------------------------------------------


# Where a server kill is aimed: (update kind, how many of them a turn sends); "sent" kills as soon
# as the prompt is written, "result" once the turn has answered.
AIM_SERVER = [
    ("sent", 1),
    ("user_message", 1),
    ("agent_message_chunk", 10),
    ("tool_call", 2),
    ("tool_call_update", 4),
    ("agent_message_end", 2),
    ("usage", 2),
    ("checkpoint", 1),
    ("result", 1),
]


TEXT_DELTA_CHARS = 16  # the scripted text turns stream 16-character deltas


def seen(agent: Any, kind: str) -> int:
    """How many updates of `kind` the turn has sent; text counts in the fake API's deltas,
    since the server joins deltas that arrive within a frame into one update."""
    updates = [u["update"] for u in list(agent.updates) if u["update"]["kind"] == kind]
    if kind == "agent_message_chunk":
        return sum(len(u["content"]["text"]) for u in updates) // TEXT_DELTA_CHARS
    return len(updates)


async def aim(agent: Any, request: asyncio.Future[Any], kind: str, nth: int) -> None:
    """Wait for the `nth` update of `kind` of the running turn (or its answer)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if kind == "sent":
            return
        if kind == "result" and request.done():
            return
        if seen(agent, kind) >= nth:
            return
        if request.done():
            raise AssertionError(f"the turn ended before {nth} {kind}: {request.result()}")
        await asyncio.sleep(0.001)
    raise AssertionError(f"no {kind} #{nth} within 30 s")


@pytest.mark.timeout(900)
async def test_kill_the_server_mid_turn(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "8")))
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    phases: Counter[str] = Counter()
    torn_seen = tears = whole_turns = 0
    before: dict[str, list[bytes]] | None = None
    seeds: dict[int, int] = {}
    started = time.monotonic()
    with FakeAnthropic() as api:
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        for cycle in range(1, SERVER_KILLS + 1):
            api.reset()
            async with connect(
                [workspace], home, env=env, options=NO_COMPACTION, shutdown=False
            ) as agent:
                if before is not None:
                    torn_seen += assert_nothing_lost(before, home)
                    listed = await agent.request("agent/session/list", {"limit": 1000})
                    ids = {s["sessionId"] for s in listed["sessions"]}
                    assert len(ids) == len(session_files(home))
                    for sid in ids:
                        page = await agent.request("agent/session/switch", {"sessionId": sid})
                        assert page["session"]["sessionId"] == sid
                        await agent.request("agent/session/history", {"sessionId": sid})
                        await agent.request("agent/checkpoint/list", {"sessionId": sid})
                    assert_files_whole(workspace, seeds)
                if cycle % 3 == 1:
                    session = await agent.request("agent/session/new", {})
                else:
                    listed = await agent.request("agent/session/list", {"limit": 1000})
                    session = rng.choice(listed["sessions"])
                sid = session["sessionId"]
                seed = 1000 + cycle
                if cycle % 3 == 0:  # after a kill, the session takes a whole turn again
                    (workspace / "notes.txt").write_text(
                        crash_child.notes_content(seed, 1, "before")
                    )
                    api.enqueue(*crash_child.script(seed, 1))
                    seeds[seed] = 1
                    result = await agent.request(
                        "agent/session/prompt", {"sessionId": sid, "prompt": "again"}, timeout=60
                    )
                    assert result["stopReason"] == "end_turn", result
                    assert result.get("checkpointId"), result
                    whole_turns += 1
                    for path in session_files(home):
                        if sid in path.name:  # its writer repaired any torn tail
                            check_file(path)
                (workspace / "notes.txt").write_text(crash_child.notes_content(seed, 2, "before"))
                api.enqueue(*crash_child.script(seed, 2))
                seeds[seed] = 2
                agent.updates.clear()
                request = asyncio.ensure_future(
                    agent.request(
                        "agent/session/prompt", {"sessionId": sid, "prompt": "x"}, timeout=60
                    )
                )
                kind, most = AIM_SERVER[cycle % len(AIM_SERVER)]
                await aim(agent, request, kind, rng.randint(1, most))
                await asyncio.sleep(rng.uniform(0, 0.004))
                last = agent.updates[-1]["update"]["kind"] if agent.updates else "nothing_yet"
                phases["after_result" if request.done() else last] += 1
                before = snapshot(home)
                os.kill(server_pid(agent), signal.SIGKILL)
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(request, 2)
            if cycle % 3 == 0:
                tear(home, rng)
                tears += 1
        # the last kill: a fresh server opens everything and works
        async with connect([workspace], home, env=env, options=NO_COMPACTION) as agent:
            assert before is not None
            torn_seen += assert_nothing_lost(before, home)
            listed = await agent.request("agent/session/list", {"limit": 1000})
            for info in listed["sessions"]:
                await agent.request("agent/session/switch", {"sessionId": info["sessionId"]})
            result = await agent.request(
                "agent/session/prompt",
                {"sessionId": listed["sessions"][0]["sessionId"], "prompt": "after all that"},
                timeout=60,
            )
            assert result["stopReason"] == "end_turn"
    assert_store_sound(home, workspace)
    assert_files_whole(workspace, seeds)
    record("crash.server_kills", SERVER_KILLS)
    record("crash.server_kill_phases", dict(sorted(phases.items())))
    record("crash.server_whole_turns_after_a_kill", whole_turns)
    record("crash.server_torn_tails_seen_and_repaired", torn_seen)
    record("crash.server_torn_tails_injected", tears)
    record("crash.server_seconds", round(time.monotonic() - started, 1))
    assert len(phases) >= min(4, SERVER_KILLS), phases


# -- the service in a child process ---------------------------------------------------------------


class Child:
    """`crash_child` running; its last printed line is where it was when killed."""

    def __init__(self, home: Path, workspace: Path, seed: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.crash_child",
                *map(str, (home, workspace, seed)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode().strip()
            self.lines.append(line)
            if line == "ready":
                self.ready.set()
        self.ready.set()

    def wait_for(self, turn: int, kind: str, nth: int, timeout: float = 20) -> bool:
        """Wait until the child printed its `nth` `kind` line of `turn`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            seen = sum(line.startswith(f"{turn} {kind}") for line in list(self.lines))
            if seen >= nth:
                return True
            time.sleep(0.001)
        return False

    @property
    def last_turn(self) -> int:
        turns = [int(line.split()[0]) for line in self.lines if line[:1].isdigit()]
        return max(turns, default=0)

    @property
    def phase(self) -> str:
        for line in reversed(self.lines):
            if line[:1].isdigit():
                return line.split()[1]
        return "before_turn"


# Where a kill can be aimed: (kind printed by the child, how many of them a turn prints).
# Text streams before and after the tools; the blobs are written between ToolCallStarted and
# the ToolCallUpdated lines; the checkpoint entry just before CheckpointCreated.
AIM = [
    ("start", 1),
    ("UserMessage", 1),
    ("TextChunk", 10),
    ("ToolCallStarted", 2),
    ("AssistantMessage", 2),
    ("UsageReported", 2),
    ("ToolCallUpdated", 4),
    ("CheckpointCreated", 1),
    ("end", 1),
]


@pytest.mark.timeout(900)
def test_kill_the_domain_mid_turn(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "8")))
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    phases: Counter[str] = Counter()
    seeds: dict[int, int] = {}
    torn_seen = tears = 0
    turns_done = 0
    started = time.monotonic()
    for seed in range(1, DOMAIN_KILLS + 1):
        child = Child(home, workspace, seed)
        try:
            assert child.ready.wait(30), child.proc.stderr.read().decode()  # type: ignore[union-attr]
            assert child.proc.poll() is None, child.proc.stderr.read().decode()  # type: ignore[union-attr]
            kind, most = AIM[seed % len(AIM)]
            turn, nth = rng.choice((1, 2)), rng.randint(1, most)
            if not child.wait_for(turn, kind, nth):
                child.proc.kill()
                child.proc.wait()
                stderr = child.proc.stderr.read().decode()  # type: ignore[union-attr]
                raise AssertionError(f"{turn} {kind} {nth}: {child.lines[:40]}\n{stderr[-3000:]}")
            time.sleep(rng.uniform(0.0, 0.004))
            before = snapshot(home)
            child.proc.kill()
            child.proc.wait()
        finally:
            if child.proc.poll() is None:
                child.proc.kill()
                child.proc.wait()
        assert child.proc.returncode == -signal.SIGKILL, child.proc.stderr.read().decode()  # type: ignore[union-attr]
        seeds[seed] = child.last_turn
        turns_done += sum(line.endswith(" end") for line in child.lines)
        phases[child.phase] += 1
        torn_seen += assert_nothing_lost(before, home)
        assert_files_whole(workspace, seeds)
        if seed % 3 == 0:
            tear(home, rng)
            tears += 1
        if seed % 6 == 0 or seed == DOMAIN_KILLS:
            assert_store_sound(home, workspace)
    record("crash.domain_kills", DOMAIN_KILLS)
    record("crash.domain_kill_phases", dict(sorted(phases.items())))
    record("crash.domain_torn_tails_seen_and_repaired", torn_seen)
    record("crash.domain_torn_tails_injected", tears)
    record("crash.domain_whole_turns_between_kills", turns_done)
    record("crash.domain_seconds", round(time.monotonic() - started, 1))
    assert len(phases) >= min(4, DOMAIN_KILLS), phases
    counts = assert_store_sound(home, workspace)
    asyncio.run(open_everything_over_lsp(home, workspace, counts))


async def open_everything_over_lsp(home: Path, workspace: Path, counts: dict[str, int]) -> None:
    """A fresh server lists every session the children left, opens each, and prompts one."""
    async with connect(
        [workspace], home, env={"AGENT_LS_PROVIDER": "scripted"}, options=None
    ) as agent:
        listed = await agent.request("agent/session/list", {"limit": 1000})
        assert {s["sessionId"] for s in listed["sessions"]} == set(counts)
        for sid, count in counts.items():
            page = await agent.request("agent/session/switch", {"sessionId": sid})
            assert page["session"]["sessionId"] == sid
            assert bool(page["items"]) == (count > 0)
        result = await agent.request(
            "agent/session/prompt", {"sessionId": next(iter(counts)), "prompt": "still here"}
        )
        assert result["stopReason"] == "end_turn"
    for path in session_files(home):
        check_file(path)
