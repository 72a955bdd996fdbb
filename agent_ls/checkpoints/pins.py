"""Pins: the blobs a running turn holds before any checkpoint entry names them.

Garbage collection may run in another process (`agent-ls sessions purge`) and keeps a blob no
entry references only for a grace period after its last write. A turn can outlive that (say, it
waits overnight at a permission prompt), so each running turn keeps a pin file in the store,
`pins/<pid>-<random>.pin`, one blob name a line, `flock`ed for the turn's lifetime. Collection
keeps every blob a locked pin names, whatever its age. The kernel drops the lock when the owner
dies, so a pin left by a crashed turn is recognised as stale and removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from pathlib import Path

from agent_ls.checkpoints.blobs import is_sha

PINS = "pins"
SUFFIX = ".pin"


class TurnPin:
    """The pin file of one running turn, made on its first blob and removed by `release`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None
        self._path: Path | None = None

    def add(self, sha: str) -> None:
        """Pin one blob (call after the blob is written: its fresh mtime covers the gap)."""
        if self._fd is None:
            self._open()
        assert self._fd is not None
        os.write(self._fd, f"{sha}\n".encode())

    def _open(self) -> None:
        """Lock the file before it takes its .pin name, so no collector sees it unlocked."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        draft = self.directory / f".{name}.tmp"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._path = self.directory / f"{name}{SUFFIX}"
            os.replace(draft, self._path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(draft)
            raise
        self._fd = fd

    def release(self) -> None:
        """The turn's checkpoint entry is written (or the turn changed nothing): unpin."""
        if self._fd is None:
            return
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
        os.close(self._fd)
        self._fd = self._path = None


def pinned_blobs(directory: Path) -> set[str]:
    """Every blob a running turn of any process pins; stale pins (owner gone) are removed."""
    pinned: set[str] = set()
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return pinned
    for entry in entries:
        if not entry.name.endswith(SUFFIX) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: its turn is running
                with os.fdopen(os.dup(fd), "rb") as handle:
                    names = handle.read().decode("ascii", "replace").split()
                pinned.update(name for name in names if is_sha(name))
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
        finally:
            os.close(fd)
    return pinned
