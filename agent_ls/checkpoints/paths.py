"""Where checkpoints may read and write: inside the workspace roots, never in `.git`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent_ls.checkpoints.errors import OutsideWorkspace


def resolve_roots(roots: Sequence[Path | str]) -> tuple[Path, ...]:
    """Resolve roots once, so every later containment check compares real paths."""
    return tuple(Path(root).resolve() for root in roots)


def confine(path: Path | str, roots: Sequence[Path]) -> Path:
    """Return the resolved absolute path, or raise if it leaves the roots or enters `.git`.

    Checkpoint entries store this resolved form (absolute, POSIX), which stays unambiguous
    across multi-root workspaces.
    """
    resolved = Path(path).resolve()
    for root in roots:
        if resolved == root or not resolved.is_relative_to(root):
            continue
        if ".git" in resolved.relative_to(root).parts:
            raise OutsideWorkspace(f"{resolved} is inside .git")
        return resolved
    raise OutsideWorkspace(f"{resolved} is outside the workspace")
