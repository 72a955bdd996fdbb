"""Startup benchmark: process start to the `initialize` result, agent-ls versus a bare pygls server.

Both servers are started the same way (`python -m agent_ls` / `python -c <bare server>`, the
same interpreter, environment and initialize params) and timed side by side in one run,
interleaved, with the order alternating each round. The client is a raw JSON-RPC writer/reader
on the pipes (bench/lsp_pipe.py): the initialize request is written right after the spawn and
the clock stops when its response has been read. One extra agent-ls run with `-X importtime`
checks that the `anthropic` SDK is not imported by then and shows where the import time goes.

    .venv/bin/python bench/bench_startup.py [--json] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsp_pipe import LspPipe, initialize_params  # noqa: E402

TARGET_RATIO = 1.5
BARE_SERVER = (
    "from pygls.lsp.server import LanguageServer\nLanguageServer('bare-pygls', '0').start_io()\n"
)
COMMANDS = {
    "agent-ls": [sys.executable, "-m", "agent_ls"],
    "bare pygls": [sys.executable, "-c", BARE_SERVER],
}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENT_LS_"))}
    env["AGENT_LS_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def time_to_initialize(command: list[str], env: dict[str, str], workspace: Path) -> float:
    """Seconds from just before the spawn to the initialize response having been read."""
    pipe = LspPipe(command, env=env, cwd=workspace)
    try:
        pipe.request("initialize", initialize_params(str(workspace)))
        elapsed = time.perf_counter() - pipe.started
        pipe.notify("initialized", {})
    finally:
        pipe.close()
    return elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values) * 1000, 1),
        "p90_ms": round(_percentile(values, 0.9) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def import_check(env: dict[str, str], workspace: Path) -> dict[str, Any]:
    """Run agent-ls once under `-X importtime` through initialize, shutdown and exit.

    The log covers the whole life of the process, so no `anthropic` in it means the SDK was
    not imported by the time initialize answered (nor after, in that run).
    """
    with tempfile.TemporaryFile() as log:
        command = [sys.executable, "-X", "importtime", "-m", "agent_ls"]
        pipe = LspPipe(command, env=env, cwd=workspace, stderr=log)
        try:
            pipe.request("initialize", initialize_params(str(workspace)))
            pipe.notify("initialized", {})
            pipe.request("agent/session/list", {})
        finally:
            pipe.close()
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    modules: dict[str, int] = {}
    top_level: dict[str, int] = {}  # imports made by the entry point itself, not nested ones
    for line in lines:
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, raw_name = line[len("import time:") :].split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        name = raw_name.strip()
        modules[name] = int(cumulative)  # microseconds, this module and what it imported
        if len(raw_name) - len(raw_name.lstrip()) <= 1:
            top_level[name] = int(cumulative)
    heaviest = sorted(top_level.items(), key=lambda kv: -kv[1])[:6]
    sdk = sorted(n for n in modules if n == "anthropic" or n.startswith("anthropic."))
    return {
        "anthropic_imported": bool(sdk),
        "anthropic_modules": sdk[:5],
        "modules_imported": len(modules),
        "total_import_ms": round(sum(top_level.values()) / 1000, 1),
        "heaviest_top_level_imports_ms": {k: round(v / 1000, 1) for k, v in heaviest},
    }


def run(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        workspace = Path(tmp) / "project"
        workspace.mkdir()
        (workspace / "main.py").write_text("print('hello')\n")
        env = _env(Path(tmp) / "home")
        # warm-up: byte-compile, fill the page cache, create the store
        for command in COMMANDS.values():
            time_to_initialize(command, env, workspace)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        names = list(COMMANDS)
        for i in range(runs):
            for name in names if i % 2 == 0 else reversed(names):
                times[name].append(time_to_initialize(COMMANDS[name], env, workspace))
        imports = import_check(env, workspace)
    summary = {name: _summary(values) for name, values in times.items()}
    ratio_median = statistics.median(times["agent-ls"]) / statistics.median(times["bare pygls"])
    ratio_p90 = _percentile(times["agent-ls"], 0.9) / _percentile(times["bare pygls"], 0.9)
    return {
        "runs": runs,
        "servers": summary,
        "ratio_median": round(ratio_median, 2),
        "ratio_p90": round(ratio_p90, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio_median <= TARGET_RATIO,
        "imports": imports,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per server (default 15)")
    args = parser.parse_args()
    results = run(args.runs)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps({"benchmark": "startup", "machine": machine, **results}, indent=2))
    else:
        print(f"startup: process start -> initialize result, {results['runs']} runs each")
        for name, s in results["servers"].items():
            print(
                f"  {name:<11} median {s['median_ms']:7.1f} ms  p90 {s['p90_ms']:7.1f} ms"
                f"  (min {s['min_ms']:.1f}, max {s['max_ms']:.1f})"
            )
        verdict = "met" if results["target_met"] else "MISSED"
        print(
            f"  ratio agent-ls / bare: median {results['ratio_median']:.2f}x, "
            f"p90 {results['ratio_p90']:.2f}x (target <= {TARGET_RATIO}x: {verdict})"
        )
        imp = results["imports"]
        print(
            f"  anthropic imported by agent-ls through initialize: "
            f"{'YES ' + ', '.join(imp['anthropic_modules']) if imp['anthropic_imported'] else 'no'}"
            f" ({imp['modules_imported']} modules imported in all)"
        )
        heavy = ", ".join(f"{k} {v} ms" for k, v in imp["heaviest_top_level_imports_ms"].items())
        print(
            f"  imports under -X importtime: {imp['total_import_ms']} ms in all; heaviest: {heavy}"
        )
        print(f"  1-min load average after the run: {machine['load_average_1min']}")
    return 0 if results["target_met"] and not results["imports"]["anthropic_imported"] else 1


if __name__ == "__main__":
    sys.exit(main())
