"""Snapshot a path before the agent first changes it in a turn; list the changes at the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.entries import UNKNOWN
from agent_ls.checkpoints.pins import PINS, TurnPin
from agent_ls.checkpoints.scan import Scanner, Snapshot, stat_of
from agent_ls.files.confine import confine, resolve_roots
from agent_ls.files.regular import NotRegularFile, read_regular

ReadBytes = Callable[[Path], bytes | None]
"""Current content of a path, None when absent. The service reads editor buffers first."""


def read_disk(path: Path) -> bytes | None:
    """The default reader: the file on disk, None if there is no regular file (a FIFO is never
    opened for reading: that would wait for a writer)."""
    try:
        return read_regular(path)
    except (FileNotFoundError, NotADirectoryError, NotRegularFile):
        return None


@dataclass
class CommandChanges:
    """What one shell command changed, as POSIX absolute paths.

    `not_restorable` lists the changed paths whose prior content is unknown (no copy existed);
    `complete` is False when the scan hit its limits and may have missed changes.
    """

    created: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    not_restorable: list[str] = field(default_factory=list)
    complete: bool = True


class TurnRecorder:
    """Records, for one turn, the prior content of every path the agent changes.

    Cost is proportional to the files touched: one read and one blob per path before its first
    change, one read and one blob per path at the end. Shell commands add two stat scans.
    """

    def __init__(
        self,
        blobs: BlobStore,
        roots: Sequence[Path | str],
        *,
        read_bytes: ReadBytes = read_disk,
        scanner: Scanner | None = None,
    ) -> None:
        self.blobs = blobs
        self.roots = resolve_roots(roots)
        self.read_bytes = read_bytes
        self._scanner = scanner
        self._before: dict[str, str | None] = {}
        self._pre_command: Snapshot | None = None
        self._pin = TurnPin(self.blobs.directory.parent / PINS)

    def before_change(self, path: Path | str) -> str:
        """Call before every write or delete; only the first call per path stores anything.

        Returns the path as recorded (resolved, absolute, POSIX). Raises `OutsideWorkspace` for
        a path outside the roots or inside `.git`, so the caller refuses the write.
        """
        resolved = confine(self.roots, path, for_write=True)
        key = resolved.as_posix()
        if key not in self._before:
            data = self.read_bytes(resolved)
            self._before[key] = None if data is None else self._pinned_put(data)
        return key

    def _pinned_put(self, data: bytes) -> str:
        sha = self.blobs.put(data)
        self._pin.add(sha)
        return sha

    @property
    def scanner(self) -> Scanner:
        """The workspace scanner (made on first use when the service passed none)."""
        if self._scanner is None:
            self._scanner = Scanner(self.roots, self.blobs)
        return self._scanner

    def command_started(self) -> None:
        """Scan the workspace (and copy changed small text files) before a shell command."""
        self._pre_command = self.scanner.scan_and_copy()

    def command_finished(self) -> CommandChanges:
        """Scan again and record what the command created, modified or deleted."""
        pre, self._pre_command = self._pre_command, None
        if pre is None:
            raise RuntimeError("command_finished without command_started")
        post = self.scanner.scan()
        changes = CommandChanges(complete=pre.complete and post.complete)
        for path, stat in post.files.items():
            old = pre.files.get(path)
            if old is None:
                self._record(path, None if pre.complete else UNKNOWN, changes.created, changes)
            elif old != stat:
                self._record(path, self._prior(path, old), changes.modified, changes)
        for path, old in pre.files.items():
            if path in post.files:
                continue
            now = stat_of(path)
            if now != old:
                bucket = changes.deleted if now is None else changes.modified
                self._record(path, self._prior(path, old), bucket, changes)
        return changes

    def _prior(self, path: str, stat: tuple[int, int]) -> str:
        """The copy of a file's content at `stat`, or UNKNOWN when the scan kept none."""
        return self.scanner.prior_copy(path, stat) or UNKNOWN

    def _record(
        self, path: str, before: str | None, bucket: list[str], changes: CommandChanges
    ) -> None:
        """Record a command's change unless the turn already holds the path's prior content."""
        if path in self._before:
            return
        bucket.append(path)
        if before == UNKNOWN:
            changes.not_restorable.append(path)
        elif before is not None:
            self._pin.add(before)
        self._before[path] = before

    def finish(self) -> list[dict[str, Any]]:
        """The `files` of the turn's checkpoint entry, with after-hashes of the final content.

        Paths whose content ended where it started are dropped. Blobs are fsynced here, before
        the service appends the entry that references them.
        """
        files: list[dict[str, Any]] = []
        for path, before in self._before.items():
            data = self.read_bytes(Path(path))
            after = None if data is None else self.blobs.put(data)
            if after != before:
                files.append({"path": path, "before": before, "after": after})
        self.blobs.sync()
        return files

    def release(self) -> None:
        """The turn is over and its checkpoint entry written: other processes may collect."""
        self._pin.release()

    def pinned(self) -> set[str]:
        """Blobs this turn holds but no entry references yet (keep them from collection)."""
        return {sha for sha in self._before.values() if sha not in (None, UNKNOWN)}
