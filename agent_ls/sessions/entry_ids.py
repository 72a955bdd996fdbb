"""The set of entry ids a session file holds, found without parsing its entries.

A new entry needs an id not yet used in the file. Parsing a 270 MB session to learn its ids
would cost seconds and gigabytes, so the ids are picked out of the bytes and kept as a sorted
array of 32-bit numbers (a new id is 8 hex digits, so only such ids can clash): 4 bytes an id,
4 MB for a million entries (a set of byte strings took 70 MB). Text that merely looks like an
id (inside a tool result, say) may be kept too: that only makes a random pick skip one more
value.
"""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_left

_ID = re.compile(rb'"id":"([0-9a-f]{8})"')
_LINE_ID = re.compile(rb'\{"type":"[^"\\]{1,40}","id":"([0-9a-f]{8})"')
_HEX8 = re.compile(r"[0-9a-f]{8}")
_BLOCK = 1 << 20  # one regex pass holds the GIL: keep it short for the event loop
_DENSE = 256  # lines shorter than this on average: one regex pass beats a search per line


def _ids_of(block: bytes, lo: int, out: list[bytes]) -> None:
    """The ids of the complete lines in ``block[lo:]`` (which ends with a newline)."""
    lines = block.count(b"\n", lo)
    if lines * _DENSE > len(block) - lo:
        out.extend(_ID.findall(block, lo))
        return
    # Long lines (tool results, files): the id is at the start, so skip from line to line.
    match = _LINE_ID.match
    at = lo
    while at < len(block):
        found = match(block, at)
        if found is not None:
            out.append(found.group(1))
        else:  # a line in another key order: look anywhere in it
            out.extend(_ID.findall(block, at, block.find(b"\n", at) + 1))
        at = block.find(b"\n", at) + 1
        if at == 0:
            break


class EntryIds:
    """Ids in ``[0, end)`` of one file, plus the ones added since; ``in`` tells if taken."""

    def __init__(self, identity: tuple[int, int, str]) -> None:
        self.identity = identity  # (st_dev, st_ino, createdAt): the file it was read from
        self.end = 0
        self._found = array("I")  # sorted
        self._added: set[str] = set()

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, str):
            return False
        if entry_id in self._added:
            return True
        if not _HEX8.fullmatch(entry_id):
            return False
        value = int(entry_id, 16)
        at = bisect_left(self._found, value)
        return at < len(self._found) and self._found[at] == value

    def add(self, entry_id: str, end: int) -> None:
        """An entry just appended, ending at ``end``."""
        self._added.add(entry_id)
        self.end = end

    def read(self, fd: int, end: int) -> None:
        """Take in the ids of the complete lines of ``[self.end, end)`` of an open file."""
        values = array("I")
        pos = self.end
        carry = b""
        while pos < end:
            block = carry + os.pread(fd, min(_BLOCK, end - pos), pos)
            if len(block) == len(carry):
                break
            pos += len(block) - len(carry)
            cut = block.rfind(b"\n") + 1 if pos < end else len(block)
            found: list[bytes] = []
            _ids_of(block[:cut] if cut < len(block) else block, 0, found)
            values.extend(int(entry_id, 16) for entry_id in found)
            carry = block[cut:]
        self.end = max(self.end, end)
        if values:
            self._found = array("I", sorted(self._found + values))
