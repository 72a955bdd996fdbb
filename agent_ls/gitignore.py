"""Git-style patterns (.gitignore files, globs), with `pathspec` imported on first use.

The tools and the command scan need it only when they walk files; the server's startup does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


def patterns(lines: Iterable[str]) -> GitIgnoreSpec:
    """A matcher for these gitignore-style lines."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)
