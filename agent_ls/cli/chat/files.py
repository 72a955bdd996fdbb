"""The workspace's files for @path completion (the one walker: what git would show), and the
@paths a prompt names, which go to the agent as context."""

from __future__ import annotations

import os
import time
from pathlib import Path

from agent_ls.files.walk import walk

LIMIT = 20_000  # a huge tree still completes at once; the rest is reachable by typing a path
DEADLINE_S = 2.0  # completion must not hang on a slow disk


def workspace_files(root: Path) -> list[str]:
    """Paths relative to ``root``, without what .gitignore ignores."""
    found = walk(root, deadline=time.monotonic() + DEADLINE_S)
    top = os.fspath(root)
    return [os.path.relpath(path, top) for path in list(found.files)[:LIMIT]]


def mentioned(root: Path, text: str) -> list[Path]:
    """The files a prompt names as @path, inside the workspace."""
    seen: list[Path] = []
    for word in text.split():
        if word.startswith("@") and len(word) > 1:
            path = (root / word[1:].rstrip(".,;:!?)")).resolve()
            if path.is_file() and path.is_relative_to(root) and path not in seen:
                seen.append(path)
    return seen
