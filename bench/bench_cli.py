"""`agent-ls sessions list` as a whole process over bench_sessions.py's 10,000 sessions.

What a script pays per call: interpreter start, imports, opening the index, listing and
printing JSON. The command runs as a user installs it: a wheel of this checkout in its own
virtualenv (.cache/bench-venv, bytecode compiled by pip). The development venv's editable
install is measured beside it: setuptools' editable finder is imported at every start.

    .venv/bin/python bench/bench_cli.py [--json] [--runs N] [--data DIR]
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sessions  # noqa: E402

from agent_ls.sessions.layout import SESSIONS, workspace_dir  # noqa: E402

BENCH_VENV = REPO / ".cache" / "bench-venv"
# name, argv after `agent-ls sessions`, target (ms, wall median), whether the folder changed
CASES: list[tuple[str, list[str], float | None, bool]] = [
    ("list --all --json", ["list", "--all", "--json"], 100, False),
    ("list --json (first page)", ["list", "--json"], 60, False),
    ("list --json, the folder just changed (stats all)", ["list", "--json"], None, True),
]


def installed() -> Path:
    """The bin folder of a venv holding this checkout installed from a wheel (made once; the
    project is reinstalled on every run so the code measured is the code checked out)."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(REPO)], check=True)
    return BENCH_VENV / "bin"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(
    command: list[str], env: dict[str, str], runs: int, before: Callable[[], None] | None = None
) -> dict[str, float]:
    """Wall time (median, best) and CPU time (median) of ``runs`` whole processes.

    CPU time (user + system of the child) is what the process costs; on a busy machine the
    wall time also holds the time spent waiting for a core.
    """
    walls, cpus = [], []
    for n in range(runs + 1):
        if before is not None:
            before()
        c0, t0 = _cpu(), time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE)
        if n:  # the first run warms the index, the page cache and the bytecode cache
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((_cpu() - c0) * 1000)
    return {
        "median_ms": round(statistics.median(walls), 1),
        "best_ms": round(min(walls), 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
    }


def child_env(data: Path) -> dict[str, str]:
    """The store of the benchmark data; bytecode caching on, as on a user's machine."""
    env = {**os.environ, "AGENT_LS_HOME": str(data / "root")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(data: Path, runs: int, bins: dict[str, Path]) -> dict[str, dict[str, object]]:
    env = child_env(data)
    sessions = workspace_dir(data / "root", data / "many") / SESSIONS
    results: dict[str, dict[str, object]] = {}
    for label, folder in bins.items():
        floor = time_command([str(folder / "python"), "-c", "pass"], env, runs)
        results[f"{label}: python -c pass (the floor)"] = {**floor, "target_ms": None}
        for case, argv, target, changed in CASES:
            command = [str(folder / "agent-ls"), "sessions", *argv, "--workspace"]
            figures = time_command(
                [*command, str(data / "many")],
                env,
                runs,
                (lambda: os.utime(sessions)) if changed else None,
            )
            results[f"{label}: agent-ls sessions {case}"] = {**figures, "target_ms": target}
        time.sleep(1.1)  # past the racy window of the last touch of the folder
    return results


def missed(results: dict[str, dict[str, object]]) -> list[str]:
    """The installed command's cases over their target."""
    return [
        name
        for name, figures in results.items()
        if name.startswith("installed")
        and isinstance(figures["target_ms"], (int, float))
        and figures["median_ms"] > figures["target_ms"]  # type: ignore[operator]
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--data", type=Path, default=REPO / ".cache" / "bench-sessions")
    args = parser.parse_args()
    marker = args.data / "complete"
    if not marker.exists() or marker.read_text() != bench_sessions.DATA_VERSION:
        bench_sessions.generate(args.data)
    bins = {"installed": installed(), "editable (.venv)": Path(sys.executable).parent}
    load = os.getloadavg()[0]
    results = measure(args.data, args.runs, bins)
    over = missed(results)
    if args.json:
        print(json.dumps({"benchmark": "cli", "load_average": load, "results": results}, indent=2))
        return 1 if over else 0
    print(f"load average before: {load:.2f}")
    for name, figures in results.items():
        target = figures["target_ms"]
        print(
            f"{name:72} wall median {figures['median_ms']:7.1f} ms, best {figures['best_ms']:7.1f}"
            f" ms; CPU median {figures['cpu_median_ms']:7.1f} ms"
            + (f"  (target {target} ms)" if target is not None else "")
        )
    if over:
        print(f"over target: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
