"""The set of entry ids a session file holds, found without parsing its entries.

A new entry needs an id not yet used in the file. Parsing a 270 MB session to learn its ids
would cost seconds and gigabytes, so the ids are picked out of the bytes with a regex and kept
as sorted 32-bit numbers (4 bytes per entry). Text that merely looks like an id (inside a tool
result, say) is kept too: that only makes a random pick skip one more value.
"""

from __future__ import annotations

import os
import re
import sys
from array import array
from bisect import bisect_left

_ID = re.compile(rb'"id":"([0-9a-f]{8})"')
_BLOCK = 4 << 20
_OVERLAP = 16  # longer than a match, so one cut across a block boundary is seen whole


def _key(entry_id: str) -> int | None:
    if len(entry_id) != 8:
        return None
    try:
        return int.from_bytes(bytes.fromhex(entry_id), sys.byteorder)
    except ValueError:
        return None


class EntryIds:
    """Ids in ``[start, end)`` of one file, plus the ones added since; ``in`` tells if taken."""

    def __init__(self, identity: tuple[int, int, str], start: int) -> None:
        self.identity = identity  # (st_dev, st_ino, createdAt): the file it was read from
        self.end = start
        self._sorted = array("I")
        self._added: set[str] = set()

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, str):
            return False
        if entry_id in self._added:
            return True
        key = _key(entry_id)
        if key is None:
            return False
        at = bisect_left(self._sorted, key)
        return at < len(self._sorted) and self._sorted[at] == key

    def add(self, entry_id: str, end: int) -> None:
        """An entry just appended, ending at ``end``."""
        self._added.add(entry_id)
        self.end = end

    def read(self, fd: int, end: int) -> None:
        """Take in the ids of ``[self.end, end)`` of an open file (an append-only tail)."""
        found = bytearray()
        pos = self.end
        while pos < end:
            start = max(self.end, pos - _OVERLAP)
            block = os.pread(fd, min(_BLOCK, end - pos) + (pos - start), start)
            if len(block) <= pos - start:
                break
            found += bytes.fromhex(b"".join(_ID.findall(block)).decode("ascii"))
            pos = start + len(block)
        self.end = max(self.end, end)
        if found:
            merged = array("I", self._sorted)
            merged.frombytes(bytes(found))
            self._sorted = array("I", sorted(merged))
