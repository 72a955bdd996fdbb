"""Confinement: every path a tool touches must resolve inside a workspace root.

Symlinks are followed (the link, its parents, and the existing prefix of a path that does not
exist yet) before the check, so a link pointing outside a root cannot be used to escape.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class ToolError(Exception):
    """A tool cannot do what the model asked; the message goes back to the model."""


def confine(roots: Sequence[Path], raw_path: str, *, for_write: bool = False) -> Path:
    """Resolve ``raw_path`` (relative to the first root) and refuse it outside every root."""
    if not roots:
        raise ToolError("no workspace folder is open, so no file can be used")
    if not isinstance(raw_path, str) or not raw_path.strip():
        raise ToolError("path must be a non-empty string")
    if "\x00" in raw_path:
        raise ToolError("path contains a NUL byte")
    expanded = Path(raw_path)
    candidate = expanded if expanded.is_absolute() else roots[0] / expanded
    resolved = Path(os.path.realpath(candidate))
    real_roots = [Path(os.path.realpath(root)) for root in roots]
    inside = next((root for root in real_roots if resolved.is_relative_to(root)), None)
    if inside is None:
        shown = ", ".join(str(root) for root in real_roots)
        raise ToolError(
            f"{raw_path} resolves to {resolved}, outside the workspace ({shown}); "
            "tools can only use files inside the workspace folders"
        )
    if for_write and ".git" in resolved.relative_to(inside).parts:
        raise ToolError(f"{raw_path} is inside .git; the agent does not write git internals")
    return resolved


def display_path(roots: Sequence[Path], path: Path) -> str:
    """The path as the model sees it: relative to the first root (which is how relative paths
    resolve), absolute otherwise."""
    if roots:
        first = Path(os.path.realpath(roots[0]))
        if path.is_relative_to(first):
            return path.relative_to(first).as_posix()
    return str(path)
