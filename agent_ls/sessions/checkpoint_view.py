"""A session's checkpoints read without parsing its other entries (for checkpoint lists).

Listing checkpoints needs every checkpoint entry (all branches), the prompt of each, and which
ones are on the active path. Parsing a 270 MB session for that costs seconds and gigabytes; this
reads the file once, backwards, a block at a time, and parses only the lines that matter: the
head of each line (``{"type":…,"id":…,"parentId":…``, the order the writer uses) says what it
is. Parents are written before their children, so one backward pass follows the active path
from the leaf and the prompt of every checkpoint.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .errors import EntryNotFound
from .files import open_regular
from .format import Entry
from .session import Session

_HEAD = re.compile(rb'\{"type":"([^"\\]*)","id":"([^"\\]*)","parentId":(?:null|"([^"\\]*)")')
_BLOCK = 4 << 20


def _lines_backwards(fd: int, start: int, end: int) -> Iterator[bytes]:
    """The complete lines of ``[start, end)``, last first, reading a block at a time."""
    carry = b""
    pos = end
    size = _BLOCK
    while pos > start:
        begin = max(start, pos - size)
        block = os.pread(fd, pos - begin, begin) + carry
        pos = begin
        cut = block.find(b"\n") + 1 if pos > start else 0
        carry = block[:cut]
        size = size * 2 if cut == len(block) else _BLOCK  # inside one long line: read more
        stop = len(block)
        while stop > cut:
            at = block.rfind(b"\n", cut, stop - 1) + 1 or cut
            yield block[at:stop]
            stop = at
    if carry:
        yield carry


def _head(line: bytes) -> tuple[str, str, str | None] | None:
    """(type, id, parentId) of a line, from its first bytes when it is in the writer's order."""
    found = _HEAD.match(line)
    if found is not None:
        parent = found.group(3)
        return (
            found.group(1).decode("utf-8", "replace"),
            found.group(2).decode("utf-8", "replace"),
            None if parent is None else parent.decode("utf-8", "replace"),
        )
    entry = _parse(line)
    if entry is None:
        return None
    parent = entry.get("parentId")
    return str(entry.get("type")), entry["id"], parent if isinstance(parent, str) else None


def _parse(line: bytes) -> Entry | None:
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None


class CheckpointView:
    """The part of a session that checkpoint lists use, as the checkpoints' ``SessionView``.

    ``entries`` holds, in file order, the checkpoint entries and the user message of each turn
    (each checkpoint without ``userEntryId`` gets the one its ancestors lead to, as the format
    defines it); ``path()`` is the checkpoints on the active path, root first.
    """

    def __init__(self, session: Session) -> None:
        self.session_id = session.session_id
        self.header = session.header
        self.file: Path = session.file
        self.entries: dict[str, Entry] = {}
        self._on_path: list[Entry] = []
        self._read(session)

    def path(self, leaf: str | None = None) -> list[Entry]:
        """The checkpoints on the active path (another leaf is not known to this view)."""
        if leaf is not None:
            raise EntryNotFound(self.session_id, leaf)
        return list(self._on_path)

    def _read(self, session: Session) -> None:
        want = session.leaf_id  # the next entry of the active path, walking back
        users: dict[str, list[Entry]] = {}  # user message id -> checkpoints naming it
        ancestors: dict[str, list[Entry]] = {}  # entry id -> checkpoints whose prompt is above
        found: list[Entry] = []
        fd = open_regular(self.file)
        try:
            lines = _lines_backwards(fd, session._header_end, session.end_offset)
            for line in lines:
                head = _head(line)
                if head is None:
                    continue
                kind, entry_id, parent = head
                entry: Entry | None = None
                if kind == "checkpoint":
                    entry = _parse(line)
                    if entry is None:
                        continue
                    found.append(entry)
                    named = entry.get("userEntryId")
                    if isinstance(named, str):
                        users.setdefault(named, []).append(entry)
                    elif parent is not None and entry.get("kind") != "undo":
                        ancestors.setdefault(parent, []).append(entry)
                    if entry_id == want:
                        self._on_path.append(entry)
                elif entry_id in users or entry_id in ancestors:
                    entry = _parse(line)
                    is_user = (
                        entry is not None
                        and entry.get("type") == "message"
                        and entry.get("role") == "user"
                    )
                    if entry is not None and entry_id in users:
                        users.pop(entry_id)
                        found.append(entry)
                    waiting = ancestors.pop(entry_id, [])
                    if entry is not None and is_user and waiting:
                        for checkpoint in waiting:
                            checkpoint["userEntryId"] = entry_id
                        found.append(entry)
                    elif waiting and parent is not None:
                        ancestors.setdefault(parent, []).extend(waiting)
                if entry_id == want:
                    want = parent
        finally:
            os.close(fd)
        found.reverse()
        self._on_path.reverse()
        for entry in found:
            self.entries.setdefault(entry["id"], entry)
