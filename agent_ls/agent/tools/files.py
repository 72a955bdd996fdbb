"""What the file tools share: reading a file as text, refusing what is not a regular file, and
the workspace's files as git sees them."""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from pathlib import Path

from agent_ls.agent.tools.base import ToolContext, ToolError
from agent_ls.files.regular import NotRegularFile, kind_of
from agent_ls.files.walk import Walk, glob_matcher, walk

MAX_READ_BYTES = 10 * 1024 * 1024


class NotText(ToolError):
    """A file that cannot be shown as text; `reason` says why, without the path."""

    def __init__(self, shown: str, reason: str) -> None:
        super().__init__(f"{shown} {reason}")
        self.reason = reason


def existing(path: Path) -> os.stat_result | None:
    """The stat of an existing regular file, None when there is none; anything else at the path
    (a directory, a FIFO, a socket, a device) is refused, so no tool ever opens it."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path, kind_of(info.st_mode))
    return info


def read_text(ctx: ToolContext, path: Path) -> str:
    """Text through the host (the editor's buffer first), refusing what is not text."""
    info = existing(path)
    shown = ctx.show(path)
    if info is not None and info.st_size > MAX_READ_BYTES:
        raise NotText(shown, f"is larger than {MAX_READ_BYTES // 1024 // 1024} MB")
    try:
        text = ctx.host.read_text(path)
    except UnicodeDecodeError as exc:
        raise NotText(shown, "is not UTF-8 text (binary file?)") from exc
    if "\x00" in text[:8192]:
        raise NotText(shown, "looks binary; it cannot be shown as text")
    return text


async def workspace_files(
    ctx: ToolContext, start: Path, glob: str = "", max_bytes: int | None = None
) -> Walk:
    """The files under ``start`` that git would show, minus symlinks that leave the workspace
    or do not lead to a regular file; only those matching ``glob`` (gitignore-style, relative
    to ``start``) and at most ``max_bytes`` large when given. Walked and filtered in a worker
    thread, within the search time."""
    roots = [os.path.realpath(root) for root in ctx.host.roots]
    rules_from = next((Path(r) for r in roots if start.is_relative_to(r)), start)
    deadline = time.monotonic() + ctx.search_timeout
    matches = glob_matcher(glob) if glob else None
    skip = len(str(start).rstrip(os.sep)) + 1

    def wanted(path: str, size: int, links: set[str]) -> bool:
        return (
            (max_bytes is None or size <= max_bytes)
            and (matches is None or matches(path[skip:].replace(os.sep, "/")))
            and (path not in links or _leads_inside(path, roots))
        )

    def run() -> Walk:
        found = walk(start, rules_from=rules_from, deadline=deadline)
        found.files = {
            path: info
            for path, info in found.files.items()
            if wanted(path, info[0], found.symlinks)
        }
        return found

    return await asyncio.to_thread(run)


def _leads_inside(link: str, roots: list[str]) -> bool:
    """A symlink the tools may follow: to a regular file inside a root."""
    target = os.path.realpath(link)
    inside = any(target == r or target.startswith(r.rstrip(os.sep) + os.sep) for r in roots)
    return inside and os.path.isfile(target)
