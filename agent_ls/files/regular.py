"""Reading only regular files: a FIFO, socket or device in the workspace must never block the
server (opening a FIFO for reading waits for a writer) nor be read as if it were a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


class NotRegularFile(OSError):
    """The path exists but is not a regular file; the message names what it is."""

    def __init__(self, path: Path | str, mode: int) -> None:
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        super().__init__(f"{os.fspath(path)} is {kind}, not a regular file")
        self.kind = kind
        self.filename = os.fspath(path)


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """The content of a regular file (at most ``limit + 1`` bytes when a limit is given, so the
    caller can tell the file is larger).

    Opens without blocking and checks the opened file, so a FIFO swapped in after a check is
    refused too. Raises FileNotFoundError, NotRegularFile or another OSError.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, mode)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read() if limit is None else handle.read(limit + 1)
    finally:
        os.close(fd)
