"""Opening only regular files: a FIFO, socket or device in the workspace or the store must never
block the server (opening a FIFO for reading waits for a writer) nor be read as if it were a file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind_of(mode: int) -> str:
    """A few words naming what a non-regular file is, for messages."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


class NotRegularFile(OSError):
    """The path exists but is not a regular file; the message names what it is."""

    def __init__(self, path: os.PathLike[str] | str, kind: str) -> None:
        super().__init__(f"{os.fspath(path)} is {kind}, not a regular file")
        self.kind = kind
        self.filename = os.fspath(path)


def open_regular(path: os.PathLike[str] | str, flags: int = os.O_RDONLY) -> int:
    """``os.open`` that fails with ``NotRegularFile`` unless ``path`` is a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer; the
    check after it (on the descriptor, so no race with a rename) refuses everything that is
    not a regular file. For regular files the flag changes nothing, and it is cleared again.
    """
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno not in (errno.EISDIR, errno.ENXIO, errno.ELOOP):
            raise
        raise NotRegularFile(path, _describe(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, kind_of(mode))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """The content of a regular file (at most ``limit + 1`` bytes when a limit is given, so the
    caller can tell the file is larger). Raises FileNotFoundError, NotRegularFile or OSError.
    """
    with os.fdopen(open_regular(path), "rb") as handle:
        return handle.read() if limit is None else handle.read(limit + 1)


def _describe(path: os.PathLike[str] | str) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError as exc:  # a symlink loop, say
        return f"unreadable ({exc.strerror})"
