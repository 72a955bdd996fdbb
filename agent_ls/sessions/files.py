"""Opening store files without ever blocking: a FIFO or device named like a session is refused."""

from __future__ import annotations

import errno
import os
import stat

from .errors import NotRegularFile

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind_of(mode: int) -> str:
    """A few words naming what a non-regular file is, for messages."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def open_regular(path: os.PathLike[str] | str, flags: int = os.O_RDONLY) -> int:
    """``os.open`` that fails with ``NotRegularFile`` unless ``path`` is a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer; the
    check after it (on the descriptor, so no race with a rename) refuses everything that is
    not a regular file. For regular files the flag changes nothing.
    """
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC)
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


def _describe(path: os.PathLike[str] | str) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError as exc:  # a symlink loop, say
        return f"unreadable ({exc.strerror})"
