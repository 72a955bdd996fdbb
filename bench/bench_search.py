"""Full-text search benchmark over the sessions benchmark's data: 10,000 sessions of 50
messages (bench_sessions.generate), plus a rare word appended to 100 of them.

Generated data is cached (default: .cache/bench-search/) and reused; the cold measurement
deletes the index on purpose.

    .venv/bin/python bench/bench_search.py [--json] [--data DIR] [--regenerate]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent_ls.sessions import SessionStore  # noqa: E402
from agent_ls.sessions.search import search  # noqa: E402
from bench.bench_sessions import (  # noqa: E402
    SESSIONS_N,
    Results,
    _drop_index,
    _session_id,
    generate,
    report,
)

DATA_VERSION = "search-v1"
RARE = "zanzibar"
PLANTED = 100  # sessions that get one message naming RARE


def prepare(data: Path) -> None:
    """The sessions benchmark's data, then one appended message naming RARE in every
    100th session (through the writer, as a turn would append it)."""
    generate(data)
    store = SessionStore(data / "many", root=data / "root")
    for n in range(0, SESSIONS_N, SESSIONS_N // PLANTED):
        with store.writer(_session_id(n)) as w:
            text = f"we rolled back the {RARE} deploy after the login refactor"
            w.append({"type": "message", "role": "user", "content": text})
    store.close()
    (data / "complete").write_text(DATA_VERSION)


def measure(data: Path) -> list[dict[str, object]]:
    root = data / "root"
    out = Results()
    store = SessionStore(data / "many", root=root)
    _drop_index(store.dir)
    store.list(limit=None)  # the listing index, as any session list builds it
    t0, c0 = time.perf_counter(), time.process_time()
    hits, _ = search([store], RARE, limit=20)
    out.add(
        "first search: full-text index built",
        (time.perf_counter() - t0) * 1000,
        "ms",
        None,
        "every file read once, ~500,000 documents",
        (time.process_time() - c0) * 1000,
    )
    assert len(hits) == 20, hits

    def rare() -> None:
        found, cursor = search([store], RARE, limit=20)
        assert len(found) == 20 and cursor

    def prefix() -> None:
        assert len(search([store], "zanzi", limit=20)[0]) == 20

    def phrase() -> None:
        assert len(search([store], f'"{RARE} deploy" login', limit=20)[0]) == 20

    def page_five() -> None:
        first, cursor = search([store], RARE, limit=20)
        for _ in range(4):
            first, cursor = search([store], RARE, limit=20, cursor=cursor)
        assert first

    def common() -> None:
        assert len(search([store], "refactor login", limit=20)[0]) == 20

    out.timed("search, rare word (100 hits), warm", rare, 30, 50)
    out.timed("search, prefix of the rare word, warm", prefix, 30, 50)
    out.timed("search, phrase + word, warm", phrase, 30, 50)
    out.timed("search, 5th page of the rare word, warm", page_five, 10, None, "; 5 requests")
    out.timed("search, two words in every message, warm", common, 5, 50, "; newest first")

    # Appends after a search: each costs what it did before search existed; the next search
    # indexes only the bytes they added (one file's tail), nothing is rebuilt.
    session_id = _session_id(1)
    payload = {"type": "message", "role": "user", "content": "a platypus appears in the logs"}
    lat = []
    with store.writer(session_id) as w:
        for _ in range(500):
            t0 = time.perf_counter()
            w.append(payload)
            lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    out.add("append p50, after a search", lat[len(lat) // 2], "ms", None, "500 appends")
    out.add("append p99, after a search", lat[int(len(lat) * 0.99)], "ms", 1, "500 appends")
    t0, c0 = time.perf_counter(), time.process_time()
    assert len(search([store], "platypus", limit=20)[0]) == 20
    out.add(
        "first search after the appends",
        (time.perf_counter() - t0) * 1000,
        "ms",
        50,
        "indexes the 500 new lines of one file",
        (time.process_time() - c0) * 1000,
    )
    assert store._index.index_text() == 0
    store.close()
    return out.rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--data", type=Path, default=REPO / ".cache" / "bench-search")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached data")
    args = parser.parse_args()
    marker = args.data / "complete"
    if args.regenerate or not marker.exists() or marker.read_text() != DATA_VERSION:
        t0 = time.perf_counter()
        prepare(args.data)
        print(f"generated data in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    load_before = os.getloadavg()[0]
    return report("search", measure(args.data), load_before, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
