"""Stat scans of the workspace around shell commands, and copies of small text files.

A command can change any file, and its prior content cannot be asked for afterwards. So before a
command the scan notes (size, mtime_ns) of every file git would see, and keeps a blob copy of
each small text file whose stat changed since the last scan; after the command a second scan
finds what was created, modified or deleted. Both the scan and the copying are bounded, so a
huge repository costs a bounded pause, never a full copy per turn: copies are deduplicated
blobs, and after the first scan only changed files are read again.
"""

from __future__ import annotations

import os
import stat as statmod
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from agent_ls.checkpoints.blobs import BlobStore

Stat = tuple[int, int]
"""(size, mtime_ns) of a regular file."""

_Ignore = tuple[str, pathspec.GitIgnoreSpec]
"""A .gitignore's directory (POSIX, absolute) and its patterns."""


@dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a scan cheap on any repository."""

    max_files: int = 50_000
    max_seconds: float = 2.0
    copy_max_file_bytes: int = 256 * 1024
    copy_budget_bytes: int = 64 * 1024 * 1024
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
    """Stat every regular file under the roots that git would not ignore.

    Skips `.git`, symlinks and the excluded directories (the checkpoint store itself when it
    lives inside the workspace).
    """
    snapshot = Snapshot()
    excluded = {Path(p).resolve().as_posix() for p in exclude}
    deadline = time.monotonic() + limits.max_seconds
    for root in roots:
        base = root.as_posix()
        ignores = _root_ignores(root)
        if not _walk(base, ignores, excluded, snapshot, limits.max_files, deadline):
            snapshot.complete = False
            break
    return snapshot


def _root_ignores(root: Path) -> list[_Ignore]:
    """`.git/info/exclude` applies like a .gitignore at the root."""
    spec = _load_spec(root / ".git" / "info" / "exclude")
    return [(root.as_posix(), spec)] if spec else []


def _load_spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    return spec if spec.patterns else None


def _ignored(path: str, is_dir: bool, ignores: list[_Ignore]) -> bool:
    """Git's rule: the deepest .gitignore with a matching pattern decides."""
    for base, spec in reversed(ignores):
        rel = path[len(base) + 1 :] + ("/" if is_dir else "")
        result = spec.check_file(rel)
        if result.include is not None:
            return result.include
    return False


def _walk(
    directory: str,
    ignores: list[_Ignore],
    excluded: set[str],
    snapshot: Snapshot,
    max_files: int,
    deadline: float,
) -> bool:
    """Depth-first scan; False when a limit was hit."""
    spec = _load_spec(Path(directory, ".gitignore"))
    if spec:
        ignores = [*ignores, (directory, spec)]
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return True
    for entry in entries:
        if entry.name == ".git":
            continue
        path = entry.path.replace(os.sep, "/")
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if path in excluded or _ignored(path, True, ignores):
                    continue
                if not _walk(path, ignores, excluded, snapshot, max_files, deadline):
                    return False
                continue
            if not entry.is_file() or _ignored(path, False, ignores):
                continue
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        snapshot.files[path] = (stat.st_size, stat.st_mtime_ns)
        if len(snapshot.files) >= max_files or (
            len(snapshot.files) % 256 == 0 and time.monotonic() > deadline
        ):
            return False
    return True


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
    """Scans one workspace and keeps blob copies of its small text files across commands.

    Hold one per workspace for the server's lifetime: the copies made before one command are
    the prior content of the files the next command changes.
    """

    def __init__(
        self,
        roots: Sequence[Path],
        blobs: BlobStore,
        *,
        limits: ScanLimits = ScanLimits(),
        exclude: Iterable[Path] = (),
    ) -> None:
        self.roots = tuple(roots)
        self.blobs = blobs
        self.limits = limits
        self.exclude = tuple(exclude)
        self._copies: dict[str, tuple[Stat, str, int]] = {}
        self._copied_bytes = 0

    def scan(self) -> Snapshot:
        """A stat-only scan (what runs after a command)."""
        return scan(self.roots, limits=self.limits, exclude=self.exclude)

    def scan_and_copy(self) -> Snapshot:
        """Scan, then copy the small text files whose stat changed since their last copy (or
        whose copy another process's garbage collection removed)."""
        snapshot = self.scan()
        if snapshot.complete:
            for gone in self._copies.keys() - snapshot.files.keys():
                self._copied_bytes -= self._copies.pop(gone)[2]
        deadline = time.monotonic() + self.limits.copy_max_seconds
        for path, stat in snapshot.files.items():
            if stat[0] > self.limits.copy_max_file_bytes:
                continue
            cached = self._copies.get(path)
            if cached is not None and cached[0] == stat and self.blobs.has(cached[1]):
                continue
            if time.monotonic() > deadline:
                break
            self._copy(path, stat, cached)
        return snapshot

    def _copy(self, path: str, stat: Stat, cached: tuple[Stat, str, int] | None) -> None:
        spare = self.limits.copy_budget_bytes - self._copied_bytes + (cached[2] if cached else 0)
        if stat[0] > spare:
            return
        try:
            with open(path, "rb") as handle:
                data = handle.read(self.limits.copy_max_file_bytes + 1)
        except OSError:
            return
        if b"\0" in data or len(data) > self.limits.copy_max_file_bytes or stat_of(path) != stat:
            return
        if cached is not None:
            self._copied_bytes -= cached[2]
        self._copies[path] = (stat, self.blobs.put(data), len(data))
        self._copied_bytes += len(data)

    def prior_copy(self, path: str, stat: Stat) -> str | None:
        """The blob of the content a file had at `stat`, if a copy was made and still exists."""
        cached = self._copies.get(path)
        if cached is None or cached[0] != stat:
            return None
        sha = cached[1]
        return sha if self.blobs.has(sha) else None

    def cached_shas(self) -> set[str]:
        """Blobs the copies use; pass them to garbage collection as pinned."""
        return {sha for _, sha, _ in self._copies.values()}
