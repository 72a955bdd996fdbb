"""`agent-ls sessions list` as a whole process over bench_sessions.py's 10,000 sessions.

What a script pays per call: interpreter start, imports, opening the warm index, listing and
printing JSON. Runs the installed entry point (.venv/bin/agent-ls) and `python -m agent_ls`.

    .venv/bin/python bench/bench_cli.py [--json] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sessions  # noqa: E402

CASES = {
    "list --all --json": ["list", "--all", "--json"],
    "list --json (first page)": ["list", "--json"],
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(data: Path, argv: list[str], runs: int, entry: list[str]) -> dict[str, float]:
    """Wall time (median, best) and CPU time (median) of ``runs`` whole processes.

    CPU time (user + system of the child) is what the process costs; on a busy machine the
    wall time also holds the time spent waiting for a core.
    """
    env = {**os.environ, "AGENT_LS_HOME": str(data / "root")}
    command = [*entry, "sessions", *argv, "--workspace", str(data / "many")]
    walls, cpus = [], []
    for n in range(runs + 1):
        c0, t0 = _cpu(), time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE)
        if n:  # the first run warms the index and the page cache
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((_cpu() - c0) * 1000)
    return {
        "median_ms": round(statistics.median(walls), 1),
        "best_ms": round(min(walls), 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
    }


def measure(data: Path, runs: int) -> dict[str, dict[str, float]]:
    entries = {
        "agent-ls": [str(Path(sys.executable).parent / "agent-ls")],
        "python -m agent_ls": [sys.executable, "-m", "agent_ls"],
    }
    return {
        f"{name} sessions {case}": time_command(data, argv, runs, entry)
        for name, entry in entries.items()
        for case, argv in CASES.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--data", type=Path, default=REPO / ".cache" / "bench-sessions")
    args = parser.parse_args()
    marker = args.data / "complete"
    if not marker.exists() or marker.read_text() != bench_sessions.DATA_VERSION:
        bench_sessions.generate(args.data)
    load = os.getloadavg()[0]
    results = measure(args.data, args.runs)
    if args.json:
        print(json.dumps({"benchmark": "cli", "load_average": load, "results": results}, indent=2))
        return 0
    print(f"load average before: {load:.2f}")
    for name, figures in results.items():
        print(
            f"{name:54} wall median {figures['median_ms']:7.1f} ms, best {figures['best_ms']:7.1f}"
            f" ms; CPU median {figures['cpu_median_ms']:7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
