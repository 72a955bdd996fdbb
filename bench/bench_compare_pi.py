"""List the same 10,000 conversations with agent-ls and with pi's ``SessionManager.list``.

Installs ``@mariozechner/pi-coding-agent@0.73.1`` with npm into .cache/pi (once), writes the
conversations of bench_sessions.py's data again in pi's session format (header version 3,
``message`` entries holding ``{role, content, timestamp}``), times ``SessionManager.list`` with
node (in process), and reports the ratio to agent-ls listing the same sessions: in process
with no index (cold), and as a whole process, `agent-ls sessions list --all --json`, index warm
(the target: pi takes at least 50 times as long).
Optional: needs node and npm.

    .venv/bin/python bench/bench_compare_pi.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cli  # noqa: E402
import bench_sessions  # noqa: E402

from agent_ls.sessions import SessionStore  # noqa: E402
from agent_ls.sessions.layout import INDEX  # noqa: E402

PI_PACKAGE = "@mariozechner/pi-coding-agent@0.73.1"
PI_DIR = REPO / ".cache" / "pi"
PI_DATA_VERSION = "v1"
RUNS = 3
WHOLE_RUNS = 15  # a whole agent-ls process takes a tenth of a second: more runs, a steadier median

NODE_SCRIPT = """
const [pkgDir, cwd, dir, runs] = process.argv.slice(1);  // node -e: no script path
const { SessionManager } = await import(pkgDir + "/dist/index.js");
const times = [];
let count = 0;
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  const sessions = await SessionManager.list(cwd, dir);
  times.push(performance.now() - t0);
  count = sessions.length;
}
console.log(JSON.stringify({ times, count }));
"""


def install_pi() -> Path:
    """npm-install the pinned pi package into the cache (no-op when present)."""
    package_dir = PI_DIR / "node_modules" / "@mariozechner" / "pi-coding-agent"
    if not (package_dir / "dist" / "index.js").exists():
        PI_DIR.mkdir(parents=True, exist_ok=True)
        if not (PI_DIR / "package.json").exists():
            (PI_DIR / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", PI_PACKAGE], cwd=PI_DIR, check=True
        )
    return package_dir


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def to_pi_line(entry: dict) -> dict:
    """One agent-ls entry as pi writes it."""
    message: dict = {"role": entry["role"], "content": entry["content"]}
    if entry["role"] == "assistant":
        message |= {
            "api": "anthropic-messages",
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "usage": {"input": 100, "output": 50},
            "stopReason": "stop",
        }
    message["timestamp"] = _millis(entry["ts"])
    return {
        "type": "message",
        "id": entry["id"],
        "parentId": entry["parentId"],
        "timestamp": entry["ts"],
        "message": message,
    }


def write_pi_data(source: Path, target: Path) -> None:
    """Convert every session of the agent-ls data set into pi's format."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for item in os.scandir(source):
        if not item.name.endswith(".jsonl"):
            continue
        with open(item.path, "rb") as f:
            lines = [json.loads(line) for line in f]
        header = lines[0]
        out = [
            {
                "type": "session",
                "version": 3,
                "id": header["id"],
                "timestamp": header["createdAt"],
                "cwd": header["cwd"],
            },
            *map(to_pi_line, lines[1:]),
        ]
        with open(target / item.name, "w") as f:
            f.writelines(json.dumps(x, separators=(",", ":")) + "\n" for x in out)
    (target.parent / "complete").write_text(PI_DATA_VERSION)


def time_ours(data: Path) -> tuple[float, float]:
    """Median ms for agent-ls listing all 10,000: in process with no index (cold), and as a
    whole new process with its index warm (``agent-ls sessions list --all --json``, installed
    from a wheel as bench_cli.py does it)."""
    root = data / "root"
    cold = []
    for _ in range(RUNS):
        store = SessionStore(data / "many", root=root)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store.dir / INDEX}{suffix}").unlink(missing_ok=True)
        t0 = time.perf_counter()
        store.list(limit=None)
        cold.append((time.perf_counter() - t0) * 1000)
        store.close()
    command = [str(bench_cli.installed() / "agent-ls"), "sessions", "list", "--all", "--json"]
    whole = bench_cli.time_command(
        [*command, "--workspace", str(data / "many")], bench_cli.child_env(data), WHOLE_RUNS
    )
    return statistics.median(cold), whole["median_ms"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--data", type=Path, default=REPO / ".cache" / "bench-sessions")
    args = parser.parse_args()
    if not shutil.which("node") or not shutil.which("npm"):
        print("bench_compare_pi: node and npm are needed; skipped", file=sys.stderr)
        return 0
    marker = args.data / "complete"
    if not marker.exists() or marker.read_text() != bench_sessions.DATA_VERSION:
        bench_sessions.generate(args.data)
    package_dir = install_pi()
    pi_root = args.data / "pi"
    pi_sessions = pi_root / "sessions"
    pi_marker = pi_root / "complete"
    if not pi_marker.exists() or pi_marker.read_text() != PI_DATA_VERSION:
        store = SessionStore(args.data / "many", root=args.data / "root")
        write_pi_data(store.sessions_dir, pi_sessions)
        store.close()
    node = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            NODE_SCRIPT,
            str(package_dir),
            str(args.data / "many"),
            str(pi_sessions),
            str(RUNS),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PI_CODING_AGENT_DIR": str(pi_root / "agent")},
    )
    pi = json.loads(node.stdout.strip().splitlines()[-1])
    assert pi["count"] == bench_sessions.SESSIONS_N, pi["count"]
    pi_ms = statistics.median(pi["times"])
    cold, warm = time_ours(args.data)
    result = {
        "benchmark": "compare-pi",
        "sessions": bench_sessions.SESSIONS_N,
        "pi_list_ms": round(pi_ms, 1),
        "agent_ls_cold_ms": round(cold, 1),
        "agent_ls_whole_process_warm_ms": round(warm, 1),
        "ratio_pi_to_cold": round(pi_ms / cold, 2),
        "ratio_pi_to_whole_process_warm": round(pi_ms / warm, 2),
        "runs": RUNS,
        "whole_process_runs": WHOLE_RUNS,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"listing {result['sessions']:,} sessions (median of {RUNS};"
            f" of {WHOLE_RUNS} for the whole agent-ls process)"
        )
        print(f"  pi SessionManager.list (0.73.1)  {pi_ms:9.1f} ms")
        labels = (("no index (cold, in process)", cold), ("whole process, warm", warm))
        for label, ours in labels:
            print(f"  agent-ls, {label:<28} {ours:9.1f} ms   pi / agent-ls = {pi_ms / ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
