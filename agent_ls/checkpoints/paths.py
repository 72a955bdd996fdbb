"""Where checkpoints may read and write: inside the workspace roots, never in `.git`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from agent_ls.checkpoints.errors import OutsideWorkspace


def resolve_roots(roots: Sequence[Path | str]) -> tuple[Path, ...]:
    """Resolve roots once, so every later containment check compares real paths."""
    return tuple(Path(root).resolve() for root in roots)


class Confinement:
    """Resolves paths and checks them against the roots.

    Resolving a path costs a `lstat` per component; one instance remembers the directories it
    resolved, so a restore of a thousand files in a few folders resolves each folder once.
    Use an instance for one operation only: a folder may become a symlink later.
    """

    def __init__(self, roots: Sequence[Path | str]) -> None:
        self.roots = tuple(os.fspath(root) for root in resolve_roots(roots))
        self._dirs: dict[str, str] = {}

    def __call__(self, path: Path | str) -> Path:
        """The resolved absolute path; raises if it leaves the roots or enters `.git`.

        Checkpoint entries store this resolved form (absolute, POSIX), which stays unambiguous
        across multi-root workspaces.
        """
        parent, name = os.path.split(os.path.abspath(path))
        real_parent = self._dirs.get(parent)
        if real_parent is None:
            real_parent = self._dirs[parent] = os.path.realpath(parent)
        resolved = os.path.join(real_parent, name)
        if name in ("", ".", "..") or os.path.islink(resolved):
            resolved = os.path.realpath(resolved)
        for root in self.roots:
            prefix = root.rstrip(os.sep) + os.sep
            if not resolved.startswith(prefix):
                continue
            if f"{os.sep}.git{os.sep}" in f"{os.sep}{resolved[len(prefix) :]}{os.sep}":
                raise OutsideWorkspace(f"{resolved} is inside .git")
            return Path(resolved)
        raise OutsideWorkspace(f"{resolved} is outside the workspace")


def confine(path: Path | str, roots: Sequence[Path]) -> Path:
    """`Confinement` for a single path."""
    return Confinement(roots)(path)
