"""The workspace's files for @path completion: what git tracks or would track (.gitignore kept)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent_ls.gitignore import patterns

LIMIT = 20_000  # a huge tree still completes at once; the rest is reachable by typing a path


def workspace_files(root: Path) -> list[str]:
    """Relative paths under ``root``, ignoring what its .gitignore ignores."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=5,
            check=True,
        ).stdout
        return sorted(p for p in listed.decode(errors="replace").split("\0") if p)[:LIMIT]
    except (OSError, subprocess.SubprocessError):
        return _walk(root)


def _walk(root: Path) -> list[str]:
    """Not a git checkout: walk, skipping dot-folders and what the top .gitignore names."""
    try:
        ignore = patterns((root / ".gitignore").read_text(errors="replace").splitlines())
    except OSError:
        ignore = patterns([])
    found: list[str] = []
    for folder, dirs, names in os.walk(root):
        rel = os.path.relpath(folder, root)
        rel = "" if rel == "." else rel + "/"
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not ignore.match_file(rel + d + "/")
        )
        found.extend(rel + n for n in sorted(names) if not ignore.match_file(rel + n))
        if len(found) >= LIMIT:
            break
    return found[:LIMIT]


def mentioned(root: Path, text: str) -> list[Path]:
    """The files a prompt names as @path, which go to the agent as context."""
    seen: list[Path] = []
    for word in text.split():
        if word.startswith("@") and len(word) > 1:
            path = (root / word[1:].rstrip(".,;:!?)")).resolve()
            if path.is_file() and path.is_relative_to(root) and path not in seen:
                seen.append(path)
    return seen
