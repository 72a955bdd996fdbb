"""Stat scans of the workspace around shell commands, and copies of small text files.

A command can change any file, and its prior content cannot be asked for afterwards. So before a
command the scan notes (size, mtime_ns) of every file git would see, and keeps an in-memory,
compressed copy of each small text file whose stat changed since the last scan; after the
command a second scan finds what was created, modified or deleted, and only the copies of the
changed files become blobs. Scan and copying are bounded in time, files and memory, so a huge
repository costs a bounded pause and nothing on disk; after the first scan only changed files
are read again.
"""

from __future__ import annotations

import os
import stat as statmod
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.files.confine import resolve_roots
from agent_ls.files.regular import read_regular
from agent_ls.files.walk import Stat, walk


@dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a scan cheap on any repository."""

    max_files: int = 50_000
    max_seconds: float = 2.0
    copy_max_file_bytes: int = 256 * 1024
    copy_memory_bytes: int = 32 * 1024 * 1024
    copy_max_seconds: float = 2.0


@dataclass
class Snapshot:
    """Files seen by one scan: absolute POSIX path → stat.

    `complete` is False when a limit cut the scan short; a path missing from an incomplete
    snapshot may still exist.
    """

    files: dict[str, Stat] = field(default_factory=dict)
    complete: bool = True


def scan(
    roots: Sequence[Path], *, limits: ScanLimits = ScanLimits(), exclude: Iterable[Path] = ()
) -> Snapshot:
    """Stat every regular file under the roots that git would show (`files.walk`).

    Skips `.git`, symlinks, FIFOs and other special files, and the excluded directories (the
    checkpoint store itself when it lives inside the workspace).
    """
    snapshot = Snapshot()
    excluded = [Path(p).resolve() for p in exclude]
    deadline = time.monotonic() + limits.max_seconds
    for root in roots:
        found = walk(root, exclude=excluded, deadline=deadline)
        for path in found.symlinks:
            del found.files[path]
        snapshot.files.update(found.files)
        if not found.complete or len(snapshot.files) >= limits.max_files:
            snapshot.complete = False
            break
    if len(snapshot.files) > limits.max_files:
        snapshot.files = dict(list(snapshot.files.items())[: limits.max_files])
    return snapshot


def stat_of(path: str) -> Stat | None:
    """The stat of one regular file, or None if it is gone (or is no longer a plain file)."""
    try:
        stat = os.lstat(path)
    except OSError:
        return None
    if not statmod.S_ISREG(stat.st_mode):
        return None
    return (stat.st_size, stat.st_mtime_ns)


class Scanner:
    """Scans one workspace and keeps copies of its small text files across commands.

    Hold one per workspace for the server's lifetime: the copies made before one command are
    the prior content of the files the next command changes. The workspace's store directory
    (the blob store's parent) is never scanned, even when it lies inside a root. Copies live
    in memory (zlib, within `copy_memory_bytes`); a copy is written to the blob store only when
    a command changed its file.
    """

    def __init__(
        self,
        roots: Sequence[Path | str],
        blobs: BlobStore,
        *,
        limits: ScanLimits = ScanLimits(),
        exclude: Iterable[Path] = (),
    ) -> None:
        self.roots = resolve_roots(roots)
        self.blobs = blobs
        self.limits = limits
        self.exclude = (*exclude, blobs.directory.parent)
        self._copies: dict[str, tuple[Stat, bytes | None]] = {}
        self._memory = 0
        self._lock = threading.Lock()

    def scan(self) -> Snapshot:
        """A stat-only scan (what runs after a command)."""
        return scan(self.roots, limits=self.limits, exclude=self.exclude)

    def scan_and_copy(self) -> Snapshot:
        """Scan, then copy the small text files whose stat changed since their last copy.

        Serialized: turns of two sessions may run commands at once, from worker threads.
        """
        with self._lock:
            return self._scan_and_copy()

    def _scan_and_copy(self) -> Snapshot:
        snapshot = self.scan()
        if snapshot.complete:
            for gone in self._copies.keys() - snapshot.files.keys():
                self._memory -= len(self._copies.pop(gone)[1] or b"")
        deadline = time.monotonic() + self.limits.copy_max_seconds
        for path, stat in snapshot.files.items():
            if stat[0] > self.limits.copy_max_file_bytes:
                continue
            cached = self._copies.get(path)
            if cached is not None and cached[0] == stat:
                continue
            if time.monotonic() > deadline:
                break
            self._copy(path, stat)
        return snapshot

    def _copy(self, path: str, stat: Stat) -> None:
        """Copy one file; binary files and files past the memory budget are remembered as
        seen without a copy, so they are not read again until they change."""
        try:
            data = read_regular(path, self.limits.copy_max_file_bytes)
        except OSError:
            return
        if stat_of(path) != stat:
            return
        old = self._copies.pop(path, None)
        if old is not None and old[1] is not None:
            self._memory -= len(old[1])
        packed = None
        if b"\0" not in data and len(data) <= self.limits.copy_max_file_bytes:
            packed = zlib.compress(data, 1)
            if self._memory + len(packed) > self.limits.copy_memory_bytes:
                packed = None
        self._copies[path] = (stat, packed)
        self._memory += len(packed) if packed is not None else 0

    def prior_copy(self, path: str, stat: Stat) -> str | None:
        """Store the copy of a file's content at `stat` as a blob; None if no copy was kept."""
        with self._lock:
            cached = self._copies.get(path)
        if cached is None or cached[0] != stat or cached[1] is None:
            return None
        return self.blobs.put(zlib.decompress(cached[1]))
