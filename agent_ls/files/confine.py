"""Confinement: every path the agent or a restore touches must resolve inside a workspace root.

Symlinks are followed (the link, its parents, and the existing prefix of a path that does not
exist yet) before the check, so a link pointing outside a root cannot be used to escape. Writes
never go into `.git` (compared without case: on macOS and Windows `.GIT` is `.git`, and hooks
there run code) nor into a workspace folder that has been deleted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class OutsideWorkspace(ValueError):
    """A path that may not be used: outside every root, a write into `.git`, or a write into a
    workspace folder that no longer exists. The message says which."""


def resolve_roots(roots: Sequence[Path | str]) -> tuple[Path, ...]:
    """Resolve roots once, so every later containment check compares real paths."""
    return tuple(Path(os.path.realpath(root)) for root in roots)


def is_git_dir_name(name: str) -> bool:
    """`.git` as a file system without case (or with NTFS's trailing dots and spaces) sees it."""
    return name.rstrip(". ").casefold() == ".git"


class Confinement:
    """Resolves paths and checks them against the roots.

    Relative paths resolve against the first root. Resolving a path costs a `lstat` per
    component; one instance remembers the directories it resolved, so a restore of a thousand
    files in a few folders resolves each folder once. Use an instance for one operation only: a
    folder may become a symlink later.
    """

    def __init__(self, roots: Sequence[Path | str]) -> None:
        self.roots = resolve_roots(roots)
        self._dirs: dict[str, str] = {}

    def __call__(self, path: Path | str, *, for_write: bool = False) -> Path:
        """The resolved absolute path; raises `OutsideWorkspace` when it may not be used."""
        if not self.roots:
            raise OutsideWorkspace("no workspace folder is open, so no file can be used")
        raw = os.fspath(path)
        if not raw.strip():
            raise OutsideWorkspace("the path is empty")
        if "\x00" in raw:
            raise OutsideWorkspace("the path contains a NUL byte")
        if not raw.isascii() and not _is_unicode(raw):
            raise OutsideWorkspace("the path is not valid Unicode text (a lone surrogate)")
        candidate = raw if os.path.isabs(raw) else os.path.join(self.roots[0], raw)
        resolved = self._resolve(candidate)
        for root in self.roots:
            if not resolved.is_relative_to(root):
                continue
            if for_write:
                _check_writable(raw, resolved, root)
            return resolved
        shown = ", ".join(str(root) for root in self.roots)
        where = str(resolved) if raw == str(resolved) else f"{raw} resolves to {resolved}, which"
        raise OutsideWorkspace(
            f"{where} is outside the workspace ({shown}); "
            "only files inside the workspace folders can be used"
        )

    def _resolve(self, candidate: str) -> Path:
        parent, name = os.path.split(os.path.normpath(candidate))
        real_parent = self._dirs.get(parent)
        if real_parent is None:
            real_parent = self._dirs[parent] = os.path.realpath(parent)
        resolved = os.path.join(real_parent, name)
        if name in ("", ".", "..") or os.path.islink(resolved):
            resolved = os.path.realpath(resolved)
        return Path(resolved)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_writable(raw: str, resolved: Path, root: Path) -> None:
    if resolved == root:
        raise OutsideWorkspace(f"{raw} is the workspace folder itself, not a file in it")
    if any(is_git_dir_name(part) for part in resolved.relative_to(root).parts):
        raise OutsideWorkspace(f"{raw} is inside .git; git internals are never written")
    if not root.is_dir():
        raise OutsideWorkspace(
            f"the workspace folder {root} no longer exists; nothing is written there "
            "(create it again or open another folder)"
        )


def confine(roots: Sequence[Path | str], path: Path | str, *, for_write: bool = False) -> Path:
    """`Confinement` for a single path."""
    return Confinement(roots)(path, for_write=for_write)
