"""Run every benchmark in bench/ (bench_*.py) except the optional comparison with pi.

Each script runs in its own process with this interpreter; the exit status is non-zero when
any of them fails or misses a target.

    .venv/bin/python bench/run_all.py [--json]   (--json is passed on to every script)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SKIP = {"bench_compare_pi.py"}


def main() -> int:
    scripts = sorted(p for p in BENCH.glob("bench_*.py") if p.name not in SKIP)
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script), *sys.argv[1:]]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed or missed a target: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
