"""Files and selections attached to a prompt (`context`), as the text the model gets.

An attachment is capped: a 192 MB file must not be stored in the session or sent whole. What is
cut is said in the text itself, so the model knows to read the rest with its tools and the user
sees the same note in the stored prompt. Only regular files are read (a FIFO would block), and
never more than the cap plus one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_ATTACHMENT_BYTES = 256 * 1024


class Unreadable(Exception):
    """The attachment cannot be read; the message says why, as the model will see it."""


def attachment_text(
    path: Path,
    buffer: str | None,
    lines: tuple[int, int] | None,
    limit: int = MAX_ATTACHMENT_BYTES,
) -> str:
    """The block for one attachment: the whole file, or lines `lines` (0-based, inclusive)."""
    try:
        if lines is None:
            text, size = _head(path, buffer, limit)
            shown = f"Attached file {path}:\n```\n{text}\n```"
            return shown + _cut_note(path, len(text.encode()), size)
        start, end = lines
        picked, size = _lines(path, buffer, start, end, limit)
    except Unreadable as exc:
        return f"Attached file {path}: unreadable ({exc})"
    shown = f"Selection from {path} (lines {start + 1}-{end + 1}):\n```\n{picked}\n```"
    return shown + _cut_note(path, len(picked.encode()), size, selection=True)


def _cut_note(path: Path, shown: int, size: int | None, *, selection: bool = False) -> str:
    if size is None or shown >= size:
        return ""
    what = "the selection" if selection else "the file"
    return (
        f"\n[Attachment cut: {what} is {size:,} bytes; only the first {shown:,} are attached. "
        f"Read the rest of {path} with read_file if it is needed.]"
    )


def _open_regular(path: Path) -> int:
    """A read descriptor for a regular file; never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unreadable("not a regular file")
    return fd


def _head(path: Path, buffer: str | None, limit: int) -> tuple[str, int]:
    """At most `limit` bytes of the text, and its full size in bytes."""
    if buffer is not None:
        data = buffer.encode()
        return _decode(data[:limit]), len(data)
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        return _decode(handle.read(limit)), size


def _lines(path: Path, buffer: str | None, start: int, end: int, limit: int) -> tuple[str, int]:
    """Lines start..end (at most `limit` bytes of them), and their full size in bytes.

    The file is read in pieces of at most 64 KiB, so a huge line never sits in memory whole.
    """
    if buffer is not None:
        data = "\n".join(buffer.splitlines()[start : end + 1]).encode()
        return _decode(data[:limit]), len(data)
    kept = bytearray()
    total = number = 0
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        while number <= end:
            piece = handle.readline(65536)
            if not piece:
                break
            if number >= start:
                total += len(piece)
                kept += piece[: max(0, limit - len(kept))]
            number += piece.endswith(b"\n")
    text = _decode(bytes(kept)).replace("\r\n", "\n")
    return text.removesuffix("\n"), total - (1 if kept.endswith(b"\n") else 0)


def _decode(data: bytes) -> str:
    """UTF-8 text of bytes that may end inside a character (that broken tail is dropped)."""
    text = data.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\ufffd") else text
