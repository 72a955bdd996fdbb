"""Large sessions: opening a 270 MB session (and one of 1e6 short lines) and prompting in it.

Each session is written directly in the store's format into a temporary store, as months of
use would leave it: turns that read files (big tool results), a compaction entry whenever the
conversation nears the context window (so the model sees only the part since), checkpoints.
Every measurement runs in a new process (cold caches, its own peak RSS) that drives the real
core (`AgentService`) with the scripted provider, which answers without HTTP; the provider
notes when the request is handed to it, so "prompt" is the turn's own work before the request,
and the time the agent spends turning the entries into API messages is shown apart from it.

    .venv/bin/python bench/bench_large_session.py [--json] [--mb 270] [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent_ls.sessions.format import encode, file_name, make_header  # noqa: E402
from agent_ls.sessions.layout import SESSIONS, ensure_dir, workspace_dir  # noqa: E402

ACTIVE_BYTES = 560_000  # about 140k tokens: a compaction is due (the default is 160k)
KEPT_BYTES = 140_000  # what a compaction keeps verbatim (a quarter of the window)
PROMPTS = 6
THINK_S = 3.0  # a user switching to a session and typing a prompt takes longer than this
TARGETS = {"open": 2000.0, "prompt": 200.0, "stall": 100.0, "rss": 250.0}


class Writer:
    """Appends entries with sequential ids and a moving clock; compacts like the agent does."""

    def __init__(self, path: Path, session_id: str, cwd: str) -> None:
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.out = open(path, "wb")  # noqa: SIM115 - closed in finish()
        self.out.write(encode(make_header(session_id, cwd, self._ts(0))))
        self.n = 0
        self.parent: str | None = None
        self.active = 0  # bytes on the path since the last compaction's first kept entry
        self.turn_starts: list[tuple[str, int]] = []  # (user entry id, active bytes before it)
        self.size = 0

    def _ts(self, n: int) -> str:
        at = self.start + timedelta(milliseconds=250 * n)
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add(self, fields: dict[str, Any]) -> str:
        self.n += 1
        entry_id = f"{self.n:08x}"
        line = encode(
            {"type": fields.pop("type"), "id": entry_id, "parentId": self.parent}
            | {"ts": self._ts(self.n)}
            | fields
        )
        self.out.write(line)
        self.size += len(line)
        self.active += len(line)
        self.parent = entry_id
        return entry_id

    def user(self, text: str) -> None:
        self.turn_starts.append((f"{self.n + 1:08x}", self.active))
        self.add({"type": "message", "role": "user", "content": [{"type": "text", "text": text}]})

    def maybe_compact(self) -> None:
        if self.active < ACTIVE_BYTES:
            return
        starts = reversed(self.turn_starts)
        kept = next(
            (eid for eid, before in starts if self.active - before > KEPT_BYTES),
            self.turn_starts[-1][0],
        )
        before = dict(self.turn_starts)[kept]
        self.add(
            {
                "type": "compaction",
                "summary": "Summary of the work so far: " + "files read and changed. " * 40,
                "firstKeptEntryId": kept,
                "tokensBefore": self.active // 4,
            }
        )
        self.active -= before
        self.turn_starts = [(e, b - before) for e, b in self.turn_starts if b >= before]

    def finish(self) -> None:
        self.out.close()


def _body(n: int, size: int) -> str:
    line = f"{n:6d}  def handler_{n}(request):  return render(request, 'page.html', ctx)\n"
    return (line * (size // len(line) + 1))[:size]


def write_big(path: Path, session_id: str, cwd: str, mb: int) -> int:
    """Turns that read a 24 KB file, answer, and sometimes change a file (a checkpoint)."""
    w = Writer(path, session_id, cwd)
    turn = 0
    while w.size < mb * 1_000_000:
        turn += 1
        w.user(f"Turn {turn}: look at handlers.py and fix the view for page {turn}.")
        w.maybe_compact()
        call = f"toolu_{turn:012d}"
        w.add(
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Reading the file first."},
                    {"type": "tool_use", "id": call, "name": "read_file", "input": {"path": "h"}},
                ],
                "model": "claude-sonnet-4-5",
                "usage": {"input_tokens": 1200, "output_tokens": 40},
                "stopReason": "tool_use",
            }
        )
        w.add(
            {
                "type": "message",
                "role": "tool_result",
                "content": [
                    {"type": "tool_result", "tool_use_id": call, "content": _body(turn, 24_000)}
                ],
            }
        )
        w.add(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": f"Fixed page {turn}. " + "Details. " * 60}],
                "model": "claude-sonnet-4-5",
                "usage": {"input_tokens": 1500, "output_tokens": 300},
                "stopReason": "end_turn",
            }
        )
        if turn % 10 == 0:
            w.add(
                {
                    "type": "checkpoint",
                    "turnId": f"turn-{turn}",
                    "kind": "turn",
                    "files": [{"path": f"{cwd}/h.py", "before": "a" * 64, "after": "b" * 64}],
                }
            )
    w.finish()
    return w.n


def write_lines(path: Path, session_id: str, cwd: str, lines: int) -> int:
    """Short exchanges: a one-word prompt and a one-word answer per turn."""
    w = Writer(path, session_id, cwd)
    while w.n < lines:
        w.user("ok?")
        w.maybe_compact()
        w.add(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "done"}],
                "stopReason": "end_turn",
            }
        )
    w.finish()
    return w.n


# The measurement, in a new process per session: what a server does when the user opens the
# workspace, switches to the session and prompts in it.
PROBE = r"""
import asyncio, json, statistics, sys, time
from pathlib import Path
from agent_ls.agent import compaction, loop
from agent_ls.agent.config import AgentConfig
from agent_ls.core.service import AgentService

building = []  # seconds spent turning entries into API messages (the agent's part, not the store's)
def timed(build):
    def wrapper(path):
        started = time.perf_counter()
        try:
            return build(path)
        finally:
            building.append(time.perf_counter() - started)
    return wrapper
loop.build_messages = timed(loop.build_messages)
compaction.build_messages = timed(compaction.build_messages)

class Client:
    def buffer_text(self, path): return None
    async def apply_text(self, path, text): return False
    async def ask_permission(self, session_id, call): return "allow_once"
    def send_update(self, session_id, turn_id, event): pass
    def report_progress(self, session_id, message): pass
    def list_changed(self): pass
    def applier(self): return None

def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024

async def main(root, workspace, session_id, prompts, checkpoints, think):
    service = AgentService([workspace], Client(), store_root=root,
                           config=AgentConfig(provider="scripted"))
    provider = await service.prompting.provider()
    handed = []
    real_stream = provider.stream
    def stream(request):
        handed.append(time.perf_counter())
        return real_stream(request)
    provider.stream = stream
    out = {}
    t0 = time.perf_counter()
    infos, _ = service.sessions.list(cursor=None, limit=50, query=None, all_workspaces=False,
                                     workspace=None)
    assert infos[0].session_id == session_id
    out["list_ms"] = (time.perf_counter() - t0) * 1000
    t1 = time.perf_counter()
    transcript = service.sessions.switch(session_id)
    assert transcript.items
    out["switch_ms"] = (time.perf_counter() - t1) * 1000
    stalls = []
    async def ticker():
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            stalls.append(now - last - 0.005)
            last = now
    await asyncio.sleep(think)  # the user types the first prompt
    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.02)
    times = []
    built = []
    first_stall = 0.0
    for n in range(prompts):
        if n == 1:
            first_stall, stalls[:] = max(stalls), []
        del building[:]
        start = time.perf_counter()
        result = (await service.prompting.prompt(session_id, f"prompt {n}: carry on")).result
        assert result.stop_reason == "end_turn", result
        times.append((handed[-1] - start) * 1000)
        built.append(sum(building[:2]) * 1000)  # the two builds before the request
    tick.cancel()
    out["open_ms"] = out["list_ms"] + out["switch_ms"] + times[0]
    out["first_prompt_ms"] = times[0]
    out["prompt_ms"] = statistics.median(times[1:])
    out["prompt_max_ms"] = max(times[1:])
    out["store_ms"] = statistics.median(t - b for t, b in zip(times[1:], built[1:]))
    out["store_max_ms"] = max(t - b for t, b in zip(times[1:], built[1:]))
    out["first_stall_ms"] = first_stall * 1000
    out["stall_ms"] = max(stalls) * 1000
    out["rss_mb"] = peak_mb()
    if checkpoints:
        t2 = time.perf_counter()
        listed = service.checkpoints.list(session_id)
        out["checkpoints"] = len(listed)
        out["checkpoint_list_ms"] = (time.perf_counter() - t2) * 1000
        out["checkpoint_rss_mb"] = peak_mb()
    print(json.dumps(out))

asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                 sys.argv[5] == "1", float(sys.argv[6])))
"""


def probe(
    root: Path, workspace: Path, session_id: str, checkpoints: bool, think: float = 0.0
) -> dict[str, float]:
    """Measure in a new process; ``think``: seconds between the switch and the first prompt."""
    argv = [str(root), str(workspace), session_id, str(PROMPTS), "1" if checkpoints else "0"]
    argv.append(str(think))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def make(base: Path, name: str, build: Any, amount: int) -> tuple[Path, Path, str, dict[str, Any]]:
    root = base / "root"
    workspace = base / name
    workspace.mkdir()
    session_id = f"LARGE{name.upper():0>21}"[:26]
    sessions = ensure_dir(workspace_dir(root, workspace) / SESSIONS, below=root)
    path = sessions / file_name("2026-01-01T00:00:00.000Z", session_id)
    t0 = time.perf_counter()
    entries = build(path, session_id, str(workspace), amount)
    facts = {
        "bytes": path.stat().st_size,
        "entries": entries,
        "generated_s": round(time.perf_counter() - t0, 1),
    }
    with open(path, "rb") as f:  # into the page cache: the disk's speed is not what is measured
        while f.read(1 << 24):
            pass
    return root, workspace, session_id, facts


ROWS = [
    ("cold_list_ms", "first list ever (index built: whole file scanned)", None),
    ("list_ms", "list, new process (index kept)", None),
    ("switch_ms", "switch (last page of history)", None),
    ("first_prompt_ms", "first prompt (entry ids read once)", None),
    ("open_ms", "open: list + switch + first prompt", TARGETS["open"]),
    ("prompt_ms", f"later prompts, median of {PROMPTS - 1}", None),
    ("prompt_max_ms", "later prompts, slowest", None),
    ("store_ms", "  of which not building API messages, median", None),
    ("store_max_ms", "  of which not building API messages, slowest", TARGETS["prompt"]),
    ("first_stall_ms", "longest event-loop stall, first prompt", None),
    ("typed_first_prompt_ms", f"first prompt {THINK_S:g} s after the switch", None),
    ("typed_first_stall_ms", "  its longest event-loop stall", None),
    ("stall_ms", "longest event-loop stall, later prompts", TARGETS["stall"]),
    ("rss_mb", "peak RSS, open + prompts (MB)", TARGETS["rss"]),
    ("checkpoint_list_ms", "checkpoint list (agent/checkpoint/list)", None),
    ("checkpoint_rss_mb", "peak RSS with the checkpoint list (MB)", None),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--mb", type=int, default=270, help="size of the big session (MB)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the other one")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="agent-ls-large-") as tmp:
        cases = [("big", write_big, args.mb), ("lines", write_lines, args.lines)]
        for name, build, amount in cases:
            root, workspace, session_id, facts = make(Path(tmp), name, build, amount)
            cold = probe(root, workspace, session_id, checkpoints=False)
            warm = probe(root, workspace, session_id, checkpoints=True)
            typed = probe(root, workspace, session_id, checkpoints=False, think=THINK_S)
            results[name] = facts | {"cold_list_ms": cold["list_ms"]} | warm
            results[name]["typed_first_prompt_ms"] = typed["first_prompt_ms"]
            results[name]["typed_first_stall_ms"] = typed["first_stall_ms"]
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    ok = all(
        target is None or r[key] <= target for r in results.values() for key, _, target in ROWS
    )
    if args.json:
        print(json.dumps({"benchmark": "large_session", "machine": machine, "results": results}))
        return 0 if ok else 1
    print(
        f"large sessions ({machine['cpus']} CPUs, Python {machine['python']}, load average "
        f"{machine['load_average_before']} → {machine['load_average_after']})"
    )
    for name, r in results.items():
        print(f"{name}: {r['bytes'] / 1e6:.0f} MB, {r['entries']:,} entries")
    print(f"{'measure':<50} {'big':>10} {'lines':>10} {'target':>8}")
    for key, label, target in ROWS:
        values = " ".join(f"{r[key]:>10.1f}" for r in results.values())
        print(f"{label:<50} {values} {'-' if target is None else f'≤{target:g}':>8}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
