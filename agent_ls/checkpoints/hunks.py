"""The agent's change to one file as numbered hunks, and reverting some of them.

Hunks are difflib's unified-diff groups (three lines of context) of before → after, numbered
from 0; `agent/checkpoint/diff` lists them and `agent/checkpoint/revertHunks` names them.
Reverting is a three-way merge (base = after, ours = current, theirs = after with those hunks
put back), so the user's later edits elsewhere in the file are kept.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from agent_ls.checkpoints.merge import merge3

CONTEXT = 3

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Hunk:
    """One hunk; starts are 1-based line numbers as in a unified diff header."""

    index: int
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_lines} +{self.new_start},{self.new_lines} @@"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _groups(before: list[bytes], after: list[bytes]) -> list[list[Opcode]]:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return list(matcher.get_grouped_opcodes(CONTEXT))


def _start(first: int, count: int) -> int:
    """A unified diff's start: 1-based, or the line before an empty range."""
    return first + 1 if count else first


def hunks(before: bytes, after: bytes) -> list[Hunk]:
    """The hunks of before → after (None content is passed as b"")."""
    found = []
    for index, group in enumerate(_groups(_lines(before), _lines(after))):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        found.append(Hunk(index, _start(i1, i2 - i1), i2 - i1, _start(j1, j2 - j1), j2 - j1))
    return found


def revert_hunks(
    before: bytes, after: bytes, current: bytes, indices: Collection[int]
) -> bytes | None:
    """`current` with the hunks `indices` of before → after undone, or None when they no longer
    apply (the user changed the same lines). Raises ValueError for an index with no hunk."""
    old, new = _lines(before), _lines(after)
    groups = _groups(old, new)
    unknown = sorted(i for i in indices if not 0 <= i < len(groups))
    if unknown:
        raise ValueError(
            f"hunks: {', '.join(map(str, unknown))} not in this change (it has {len(groups)})"
        )
    chosen = {op for i in indices for op in groups[i] if op[0] != "equal"}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out: list[bytes] = []
    for op in matcher.get_opcodes():
        tag, i1, i2, j1, j2 = op
        out.extend(old[i1:i2] if tag != "equal" and op in chosen else new[j1:j2])
    return merge3(after, current, b"".join(out))
