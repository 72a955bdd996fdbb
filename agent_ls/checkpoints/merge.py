"""Three-way merge of text with `git merge-file`, so a revert keeps the user's own edits.

git is always present where agent-ls runs, and its merge is the one users know (the same hunks,
the same idea of an overlap). Callers run this in a worker thread: it waits on a subprocess.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

MERGE_TIMEOUT = 30.0
"""Seconds one merge may take; git merges megabytes in milliseconds, so this only stops a hang."""


class MergeUnavailable(Exception):
    """git could not run (missing, killed, timed out): the caller treats the file as a conflict."""


def is_text(data: bytes | None) -> bool:
    """Whether content can be merged line by line: absent, or UTF-8 without a NUL byte."""
    if data is None:
        return True
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def merge3(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """`ours` with the change base → theirs applied to it, or None when the two overlap.

    All three must be text (see `is_text`); the result keeps every line `ours` changed that
    `theirs` did not touch.
    """
    if ours == base:
        return theirs
    if theirs == base or ours == theirs:
        return ours
    with tempfile.TemporaryDirectory(prefix="agent-ls-merge-") as tmp:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            names.append(str(path))
        try:
            done = subprocess.run(
                ["git", "merge-file", "-p", *names],
                capture_output=True,
                timeout=MERGE_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MergeUnavailable(f"git merge-file could not run: {exc}") from None
    if done.returncode == 0:
        return done.stdout
    if 0 < done.returncode < 128:  # the number of conflicting hunks (capped at 127)
        return None
    message = done.stderr.decode("utf-8", "replace").strip()
    raise MergeUnavailable(f"git merge-file failed: {message or done.returncode}")
