"""The one way a file's content is replaced: temp file, fsync, rename."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path | str, data: bytes, *, mode: int | None = None) -> None:
    """Replace a file's content so readers never see a torn file and a crash leaves either the
    old or the new content, never an empty file.

    The temp file sits beside the target (same file system, so the rename is atomic), is
    fsynced before the rename, and takes ``mode`` when given, else the mode of the file it
    replaces (new files: 0666 minus the umask). Parent directories are created.
    """
    target = os.fspath(path)
    if mode is None:
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            mode = None
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name[:180]}.agent-ls-{os.urandom(4).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    perms = 0o666 if mode is None else 0o600
    try:
        fd = os.open(tmp, flags, perms)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, flags, perms)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
