"""Retention of snapshots: free blobs no session references, and keep the store in a budget."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent_ls.checkpoints.blobs import BlobStore, is_sha
from agent_ls.checkpoints.pins import PINS, pinned_blobs
from agent_ls.files.regular import open_regular

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024
DEFAULT_GRACE_SECONDS = 3600.0
BLOBS = "blobs"


@dataclass
class GcReport:
    """What a collection did; `evicted` counts referenced blobs dropped to meet the budget."""

    freed_bytes: int = 0
    removed: int = 0
    evicted: int = 0
    kept_bytes: int = 0


Age = tuple[str, int]
"""When a checkpoint was written: its `ts`, then its place in the file (for equal times)."""


def referenced_blobs(store_dir: Path) -> dict[str, Age]:
    """Every blob named by a checkpoint entry of any session file of the workspace (live,
    trash or set aside), mapped to the age of the newest checkpoint that names it."""
    refs: dict[str, Age] = {}
    for file in sorted(store_dir.rglob("*.jsonl")):
        if BLOBS in file.relative_to(store_dir).parts:
            continue
        try:
            with os.fdopen(open_regular(file), "rb") as handle:  # a FIFO must not block
                for number, line in enumerate(handle):
                    if b'"checkpoint"' in line:
                        _add_refs(line, number, refs)
        except OSError:
            continue
    return refs


def _add_refs(line: bytes, number: int, refs: dict[str, Age]) -> None:
    try:
        entry = json.loads(line)
    except ValueError:
        return
    if not isinstance(entry, dict) or entry.get("type") != "checkpoint":
        return
    files = entry.get("files")
    age = (entry["ts"] if isinstance(entry.get("ts"), str) else "", number)
    for record in files if isinstance(files, list) else []:
        if not isinstance(record, dict):
            continue
        for key in ("before", "after"):
            sha = record.get(key)
            if is_sha(sha) and refs.get(sha, ("", -1)) < age:
                refs[sha] = age


def collect(
    store_dir: Path,
    *,
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    pinned: Iterable[str] = (),
    now: float | None = None,
) -> GcReport:
    """Delete unreferenced blobs, then evict blobs of the oldest checkpoints beyond the budget.

    Run it after a session is deleted or the trash purged. Blobs written or reused within
    `grace_seconds` are kept: another process's running turn may hold them without a
    checkpoint entry yet. Blobs a running turn of any process pins (`pins.py`) are kept
    whatever their age; `pinned` names more blobs to keep (each running turn's
    `TurnRecorder.pinned()` in this process).
    """
    blobs = BlobStore(store_dir / BLOBS)
    refs = referenced_blobs(store_dir)
    keep = set(pinned) | pinned_blobs(store_dir / PINS)
    cutoff = (time.time() if now is None else now) - grace_seconds
    report = GcReport()
    report.freed_bytes += blobs.remove_stale_temp_files(cutoff)
    sizes: dict[str, int] = {}
    for sha in list(blobs):
        try:
            stat = os.stat(blobs.path_of(sha))
        except FileNotFoundError:
            continue
        if sha in refs or sha in keep or stat.st_mtime >= cutoff:
            sizes[sha] = stat.st_size
            if stat.st_mtime >= cutoff:
                keep.add(sha)
            continue
        report.freed_bytes += blobs.delete(sha)
        report.removed += 1
    total = sum(sizes.values())
    if total > budget_bytes:
        for sha in sorted((s for s in sizes if s not in keep), key=lambda s: refs[s]):
            freed = blobs.delete(sha)
            report.freed_bytes += freed
            report.evicted += 1
            total -= freed
            if total <= budget_bytes:
                break
    report.kept_bytes = total
    return report
