"""Session store benchmark: listing 10,000 sessions, switching to a 100,000-entry session.

Generated data is cached (default: .cache/bench-sessions/) and reused across runs; the store
never modifies it except for its index, which the cold measurements delete on purpose.

    .venv/bin/python bench/bench_sessions.py [--json] [--data DIR] [--regenerate]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent_ls.sessions import SessionStore  # noqa: E402
from agent_ls.sessions.format import encode, file_name, make_header  # noqa: E402
from agent_ls.sessions.layout import INDEX, SESSIONS, ensure_dir, workspace_dir  # noqa: E402

SESSIONS_N = 10_000
MESSAGES_PER_SESSION = 50
BIG_ENTRIES = 100_000
TEXT_BYTES = 430  # a message line is then about 500 bytes
DATA_VERSION = "v1"
WORDS = [
    *("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"),
    *("while", "agents", "refactor", "login", "code"),
]


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(rng: random.Random) -> str:
    out: list[str] = []
    size = 0
    while size < TEXT_BYTES:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:TEXT_BYTES]


def _session_bytes(
    session_id: str, cwd: str, start: datetime, count: int, rng: random.Random
) -> bytes:
    lines = [encode(make_header(session_id, cwd, _iso(start)))]
    parent = None
    for i in range(count):
        entry_id = f"{i:08x}"
        role = "user" if i % 2 == 0 else "assistant"
        lines.append(
            encode(
                {
                    "type": "message",
                    "id": entry_id,
                    "parentId": parent,
                    "ts": _iso(start + timedelta(seconds=i)),
                    "role": role,
                    "content": [{"type": "text", "text": _text(rng)}],
                }
            )
        )
        parent = entry_id
    return b"".join(lines)


def _session_id(n: int) -> str:
    return f"BENCH{n:021d}"


def generate(data: Path) -> None:
    """Write the two workspaces' session files directly in the store's format."""
    shutil.rmtree(data, ignore_errors=True)
    rng = random.Random(42)
    root = data / "root"
    base = datetime(2026, 1, 1, tzinfo=UTC)
    many = workspace_dir(root, data / "many")
    sessions = ensure_dir(many / SESSIONS, below=root)
    for n in range(SESSIONS_N):
        start = base + timedelta(minutes=n)
        sid = _session_id(n)
        blob = _session_bytes(sid, str(data / "many"), start, MESSAGES_PER_SESSION, rng)
        path = sessions / file_name(_iso(start), sid)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, blob)
        os.close(fd)
    big = ensure_dir(workspace_dir(root, data / "big") / SESSIONS, below=root)
    sid = _session_id(0)
    with open(big / file_name(_iso(base), sid), "wb") as f:
        f.write(_session_bytes(sid, str(data / "big"), base, BIG_ENTRIES, rng))
    (data / "complete").write_text(DATA_VERSION)


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _drop_index(store_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_dir / INDEX}{suffix}").unlink(missing_ok=True)


class Results:
    """Rows of the report: a value, its target (None: informative only), CPU time if timed."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        target: float | None,
        note: str,
        cpu: float | None = None,
    ) -> None:
        self.rows.append(
            {
                "name": name,
                "value": round(value, 3),
                "cpu_ms": None if cpu is None else round(cpu, 3),
                "unit": unit,
                "target": target,
                "ok": target is None or value <= target,
                "note": note,
            }
        )

    def timed(
        self, name: str, fn: Callable[[], object], repeat: int, target: float | None, note: str = ""
    ) -> None:
        wall, cpu = _timed(fn, repeat)
        self.add(name, wall, "ms", target, f"median of {repeat}{note}", cpu)


def measure(data: Path) -> list[dict[str, object]]:
    root = data / "root"
    out = Results()

    # Peak memory first, each in a new process (see _peak_rss_mb).
    out.add("peak RSS: list all 10,000", _run_probe("list", data), "MB", 150, "new process")
    out.add(
        "peak RSS: full load of the 100k session",
        _run_probe("load", data),
        "MB",
        150,
        "new process",
    )

    def cold_all() -> None:
        store = SessionStore(data / "many", root=root)
        _drop_index(store.dir)
        assert len(store.list(limit=None)[0]) == SESSIONS_N
        store.close()

    cold_all()  # untimed: brings the files into the page cache, so disk speed is not measured
    out.timed("list all 10,000, cold (no index)", cold_all, 3, 2000, "; files in page cache")

    store = SessionStore(data / "many", root=root)
    store.list(limit=None)
    out.timed("list first page (50), warm", lambda: store.list(limit=50), 30, 50)
    out.timed("list all 10,000, warm", lambda: store.list(limit=None), 10, 300)
    out.timed("list, query matching nothing, warm", lambda: store.list(query="zzz"), 5, 300)
    store.close()

    def fresh_first_page() -> None:
        fresh = SessionStore(data / "many", root=root)
        fresh.list(limit=50)
        fresh.close()

    def fresh_after_a_change() -> None:
        os.utime(store.sessions_dir)  # what creating or deleting a session does
        fresh_first_page()

    out.timed("list first page, new store", fresh_first_page, 10, None, "; as the CLI")
    out.timed(
        "list first page, new store, folder changed (stats all)",
        fresh_after_a_change,
        10,
        None,
        "; as the CLI after a new session",
    )
    time.sleep(1.1)  # past the racy window of the last touch of the folder

    big_store = SessionStore(data / "big", root=root)
    sid = _session_id(0)
    big_store.info(sid)

    def switch() -> None:
        items, more = big_store.load(sid).history(limit=50)
        assert len(items) == 50 and more

    def full() -> None:
        assert len(big_store.load(sid).path()) == BIG_ENTRIES

    out.timed("switch to the 100k session (last page)", switch, 20, 50)
    out.timed("full load of its active path", full, 3, 1000)
    big_store.close()

    p50, p99 = _append_latency()
    out.add("append p50 (no fsync)", p50, "ms", 1, "2,000 appends of ~500 B")
    out.add("append p99 (no fsync)", p99, "ms", 1, "2,000 appends of ~500 B")
    return out.rows


def _append_latency() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        store = SessionStore(ws, root=Path(tmp) / "root")
        rng = random.Random(7)
        payload = [
            {"type": "message", "role": "user", "content": [{"type": "text", "text": _text(rng)}]}
            for _ in range(100)
        ]
        lat = []
        with store.writer(store.create().session_id) as w:
            w.append(payload[0])
            for i in range(2000):
                t0 = time.perf_counter()
                w.append(payload[i % 100])
                lat.append((time.perf_counter() - t0) * 1000)
        store.close()
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


# Peak memory is measured in a new process that imports only the store, so the numbers are
# the store's and not this script's. Linux's VmHWM is used: ru_maxrss survives exec, so a
# child would report its parent's peak.
PROBE = """
import sys
from pathlib import Path
from agent_ls.sessions import SessionStore

kind, data, expected, session_id = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if kind == "list":
    store = SessionStore(data / "many", root=data / "root")
    assert len(store.list(limit=None)[0]) == expected
else:
    store = SessionStore(data / "big", root=data / "root")
    assert len(store.load(session_id).path()) == expected
store.close()
with open("/proc/self/status") as f:
    print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024)
"""


def _run_probe(kind: str, data: Path) -> float:
    expected = SESSIONS_N if kind == "list" else BIG_ENTRIES
    out = subprocess.run(
        [sys.executable, "-c", PROBE, kind, str(data), str(expected), _session_id(0)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout
    return float(out.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--data", type=Path, default=REPO / ".cache" / "bench-sessions")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached data")
    args = parser.parse_args()
    marker = args.data / "complete"
    if args.regenerate or not marker.exists() or marker.read_text() != DATA_VERSION:
        t0 = time.perf_counter()
        generate(args.data)
        print(
            f"generated data in {time.perf_counter() - t0:.1f} s under {args.data}", file=sys.stderr
        )
    load_before = os.getloadavg()[0]
    return report("sessions", measure(args.data), load_before, as_json=args.json)


def report(
    benchmark: str, results: list[dict[str, object]], load_before: float, *, as_json: bool
) -> int:
    """Print a benchmark's rows (a table, or JSON) with the machine they ran on; the exit
    status says whether every target was met. Shared by the benchmarks of this folder."""
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    if as_json:
        print(
            json.dumps({"benchmark": benchmark, "machine": machine, "results": results}, indent=2)
        )
    else:
        print(
            f"{benchmark} benchmark ({machine['cpus']} CPUs, Python {machine['python']}, "
            f"load average {machine['load_average_before']} → {machine['load_average_after']})"
        )
        print(f"{'measure':<42} {'value':>11} {'cpu':>10} {'target':>10}  ok   note")
        for r in results:
            value = f"{r['value']:.2f} {r['unit']}"
            cpu = f"{r['cpu_ms']:.2f} ms" if r["cpu_ms"] is not None else "-"
            target = f"≤{r['target']:g} {r['unit']}" if r["target"] is not None else "-"
            ok = "yes" if r["ok"] else "NO"
            print(f"{r['name']:<42} {value:>11} {cpu:>10} {target:>10}  {ok:<4} {r['note']}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
