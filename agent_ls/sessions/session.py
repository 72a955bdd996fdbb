"""``Session``: a read view of one session file that parses lazily from the end."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from agent_ls.lazy_logging import get_logger

from .errors import EntryNotFound, SessionNotFound
from .files import open_regular
from .format import Entry, complete_end, parse_lines, read_header

log = get_logger(__name__)

_CHUNK = 64 * 1024
_BLOCK = 512 * 1024


def read_bounds(fd: int, size: int, session_id: str) -> tuple[Entry, int, int]:
    """Header, end of the header line, and end of the last complete line of an open file."""
    header, header_end = read_header(fd, session_id)
    return header, header_end, complete_end(fd, header_end, size)


class Session:
    """Entries of one session as of a point in time; a tree through ``parentId``.

    Only the tail is parsed until more is needed: the last page of history reads backwards
    from the end following ``parentId``; ``entries`` and ``path()`` parse the whole file once.
    """

    def __init__(self, path: Path, header: Entry, header_end: int, end: int) -> None:
        self.file = path
        self.header = header
        self.session_id: str = header["id"]
        self._header_end = header_end
        self._end = end
        self._start = end  # the parsed region is [_start, _end)
        self._entries: dict[str, Entry] = {}
        self._leaf_known = False
        self._leaf: str | None = None
        self._chunk = _CHUNK
        self._active: list[Entry] | None = None  # active_path(), kept in step by _added

    @classmethod
    def open(cls, path: Path, session_id: str) -> Session:
        """Read the header and the bounds of a file (a torn last line is left out)."""
        try:
            fd = open_regular(path)
        except FileNotFoundError:
            raise SessionNotFound(session_id) from None
        try:
            header, header_end, end = read_bounds(fd, os.fstat(fd).st_size, session_id)
        finally:
            os.close(fd)
        return cls(path, header, header_end, end)

    # -- lazy parsing -----------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """Whether every entry of the file has been parsed."""
        return self._start <= self._header_end

    @property
    def end_offset(self) -> int:
        """Byte offset just past the last complete line this view covers."""
        return self._end

    def _read(self, start: int, end: int) -> bytes:
        try:
            fd = open_regular(self.file)
        except FileNotFoundError:
            raise SessionNotFound(self.session_id) from None
        try:
            return os.pread(fd, end - start, start)
        finally:
            os.close(fd)

    def _parse_range(self, start: int, end: int) -> list[Entry]:
        """Parse whole lines in [start, end) a block at a time, never holding all the bytes.

        The cyclic garbage collector is paused meanwhile: the parse makes only acyclic
        containers, and collections triggered by their number would otherwise rescan every
        entry made so far, again and again.
        """
        out: list[Entry] = []
        try:
            fd = open_regular(self.file)
        except FileNotFoundError:
            raise SessionNotFound(self.session_id) from None
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            carry = b""
            pos = start
            while pos < end:
                read = os.pread(fd, min(_BLOCK, end - pos), pos)
                if not read:
                    break
                block = carry + read
                pos += len(read)
                cut = block.rfind(b"\n") + 1 if pos < end else len(block)
                out.extend(parse_lines(block[:cut], self.file.name))
                carry = block[cut:]
        finally:
            os.close(fd)
            if was_enabled:
                gc.enable()
        return out

    def _extend_back(self, everything: bool = False) -> None:
        """Parse another chunk before the parsed region (chunks double, so total work is linear)."""
        while not self.complete:
            start = self._header_end
            if not everything:
                start = max(start, self._start - self._chunk)
            self._chunk *= 2
            if start > self._header_end:
                # Read one byte more: if it is a newline, ``start`` is already a line start.
                data = self._read(start - 1, self._start)
                cut = data.find(b"\n")
                if cut < 0:
                    continue  # a single line longer than the chunk
                data = data[cut + 1 :]
                start += cut
            else:
                data = b""
            if start == self._start:
                continue
            if data:
                parsed = parse_lines(data, self.file.name)
            else:
                parsed = self._parse_range(start, self._start)
            earlier: dict[str, Entry] = {}
            for entry in parsed:
                # Point parentId at the parent's own id string: one copy instead of two.
                parent = earlier.get(entry.get("parentId"))  # type: ignore[arg-type]
                if parent is not None:
                    entry["parentId"] = parent["id"]
                earlier[entry["id"]] = entry
            earlier.update(self._entries)
            self._entries = earlier
            self._start = start
            return

    def _ensure_complete(self) -> None:
        if not self.complete:
            self._extend_back(everything=True)

    def _get(self, entry_id: str) -> Entry | None:
        while True:
            found = self._entries.get(entry_id)
            if found is not None or self.complete:
                return found
            self._extend_back()

    @property
    def entries(self) -> dict[str, Entry]:
        """Every entry by id, in file order (parses the whole file the first time)."""
        self._ensure_complete()
        return self._entries

    @property
    def leaf_id(self) -> str | None:
        """The current branch point: the last entry, or the target of a later ``leaf`` entry."""
        if not self._leaf_known:
            while not self._entries and not self.complete:
                self._extend_back()
            last = next(reversed(self._entries.values()), None)
            if last is None:
                self._leaf = None
            elif last.get("type") == "leaf":
                target = last.get("targetId")
                self._leaf = target if isinstance(target, str) else None
            else:
                self._leaf = last["id"]
            self._leaf_known = True
        return self._leaf

    def has(self, entry_id: str) -> bool:
        """Whether the session holds this entry."""
        return self._get(entry_id) is not None

    def get(self, entry_id: str) -> Entry:
        """One entry by id; ``EntryNotFound`` if the session does not hold it."""
        found = self._get(entry_id)
        if found is None:
            raise EntryNotFound(self.session_id, entry_id)
        return found

    # -- tree -------------------------------------------------------------------------------

    def _walk(self, start: str | None, limit: int) -> list[Entry]:
        """Entries from ``start`` up through its ancestors, newest first, at most ``limit``.

        A ``parentId`` cycle (only a hand-edited file has one) cannot loop: an ancestor chain
        longer than ``limit`` is cut there.
        """
        out: list[Entry] = []
        current = start
        if self.complete:  # the common full-path case: plain dict lookups
            get = self._entries.get
            append = out.append
            while current is not None and len(out) < limit:
                entry = get(current)
                if entry is None:
                    break
                append(entry)
                current = entry.get("parentId")
                if type(current) is not str:
                    current = None
        while current is not None and len(out) < limit:
            entry = self._get(current)
            if entry is None:
                log.warning("%s: entry %s is missing; path stops", self.file.name, current)
                break
            out.append(entry)
            parent = entry.get("parentId")
            current = parent if isinstance(parent, str) else None
        return out

    def path(self, leaf: str | None = None) -> list[Entry]:
        """The entries from the root to ``leaf`` (default: the current leaf)."""
        target = self.leaf_id if leaf is None else leaf
        if target is None:
            return []
        self._ensure_complete()
        if target not in self._entries:
            raise EntryNotFound(self.session_id, target)
        path = self._walk(target, len(self._entries))
        path.reverse()
        return path

    def active_path(self) -> list[Entry]:
        """The end of the active path the model sees: from the first entry the latest
        compaction kept (the root if there is none) to the leaf.

        The conversation built from it is the one ``path()`` gives, but only the part of the
        file since that compaction is read, once: the writer appends each new entry to it.
        """
        leaf = self.leaf_id
        cached = self._active
        if cached is None or (cached[-1]["id"] if cached else None) != leaf:
            cached = self._active = self._walk_active(leaf)
        return list(cached)

    def _walk_active(self, leaf: str | None) -> list[Entry]:
        out: list[Entry] = []
        seen: set[str] = set()
        kept: str | None = None
        current = leaf
        while current is not None and current not in seen:
            entry = self._get(current)
            if entry is None:
                log.warning("%s: entry %s is missing; path stops", self.file.name, current)
                break
            out.append(entry)
            seen.add(current)
            if kept is None:
                kept = _kept_by(entry)
            if kept is not None and kept in seen:
                break
            parent = entry.get("parentId")
            current = parent if isinstance(parent, str) else None
        out.reverse()
        return out

    def history(self, before: str | None = None, limit: int = 50) -> tuple[list[Entry], bool]:
        """A page of the active path ending just before ``before`` (default: the leaf included).

        Returns the entries in chronological order and whether older ones exist.
        """
        if before is None:
            start = self.leaf_id
        else:
            parent = self.get(before).get("parentId")
            start = parent if isinstance(parent, str) else None
        page = self._walk(start, limit + 1)
        has_more = len(page) > limit
        page = page[:limit]
        page.reverse()
        return page, has_more

    # -- used by the writer -----------------------------------------------------------------

    def _added(self, entry: Entry, end: int) -> None:
        self._entries[entry["id"]] = entry
        self._end = end
        active = self._active
        if active is not None:
            tip = active[-1]["id"] if active else None
            if entry.get("type") == "leaf" or entry.get("parentId") != tip:
                self._active = None  # a rewind or a branch: walk again when asked
            else:
                active.append(entry)
                kept = _kept_by(entry)
                start = next((i for i, e in enumerate(active) if e["id"] == kept), None)
                if start is not None:
                    del active[:start]  # a compaction: the model no longer sees what it replaced
        if entry.get("type") == "leaf":
            target = entry.get("targetId")
            self._leaf = target if isinstance(target, str) else None
        else:
            self._leaf = entry["id"]
        self._leaf_known = True


def _kept_by(entry: Entry) -> str | None:
    """The first entry a compaction keeps (None for anything else, or a compaction without)."""
    if entry.get("type") != "compaction" or not isinstance(entry.get("summary"), str):
        return None
    kept = entry.get("firstKeptEntryId")
    return kept if isinstance(kept, str) else None
