"""The listing cache: ``index.sqlite``, rebuilt from the JSONL files whenever it is missing.

Rows are keyed by file name and remember the size, mtime and byte offset they were built
from; a file whose size or mtime changed is brought up to date by reading only its new tail
(session files are append-only). Scanning works on bytes: the writer puts ``type`` first on
every line, so counting messages and finding the name needs no JSON parsing of every line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import CorruptHeader
from .format import (
    Entry,
    first_message_preview,
    id_from_file_name,
    parse_header,
    parse_lines,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RESCAN_NS = 2_000_000_000
RACY_NS = 1_000_000_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    file TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    cwd TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    name TEXT,
    first_message TEXT,
    message_count INTEGER NOT NULL,
    parent_session_id TEXT
);
CREATE INDEX IF NOT EXISTS sessions_order ON sessions (modified_at DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_id ON sessions (session_id);
"""

_LINE_START = b'{"type":"'
_MESSAGE = b'{"type":"message"'
_SESSION_INFO = b'{"type":"session_info"'
_USER = b'"role":"user"'
_TS = re.compile(rb'"ts":"([^"\\]*)"')


@dataclass(slots=True)
class Row:
    """What the index knows about one session file."""

    file: str
    session_id: str
    size: int
    mtime_ns: int
    offset: int
    cwd: str
    created_at: str
    modified_at: str
    name: str | None
    first_message: str | None
    message_count: int
    parent_session_id: str | None


_COLUMNS = tuple(f.name for f in fields(Row))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM sessions"
_LISTED = (
    "SELECT session_id, name, cwd, created_at, modified_at, message_count,"
    " coalesce(first_message, ''), parent_session_id, ? || file FROM sessions"
)
_INSERT = (
    f"INSERT OR REPLACE INTO sessions ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def _astuple(row: Row) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in _COLUMNS)


def _icontains(haystack: str | None, needle: str) -> bool:
    return haystack is not None and needle in haystack.casefold()


def _line_at(buf: bytes, start: int, hi: int) -> bytes:
    end = buf.find(b"\n", start, hi)
    return buf[start : end if end >= 0 else hi]


def _line_starts(buf: bytes, prefix: bytes, lo: int, hi: int) -> Iterator[int]:
    """Offsets of lines in ``buf[lo:hi]`` that begin with ``prefix``, first to last."""
    if buf.startswith(prefix, lo, hi):
        yield lo
    needle = b"\n" + prefix
    pos = buf.find(needle, lo, hi)
    while pos >= 0:
        yield pos + 1
        pos = buf.find(needle, pos + 1, hi)


def _last_line_start(buf: bytes, prefix: bytes, lo: int, hi: int) -> int:
    pos = buf.rfind(b"\n" + prefix, lo, hi)
    if pos >= 0:
        return pos + 1
    return lo if buf.startswith(prefix, lo, hi) else -1


def _loads_entry(line: bytes) -> Entry | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
        return None
    return obj if isinstance(obj, dict) else None


def scan_region(row: Row, buf: bytes, lo: int, hi: int, origin: str) -> None:
    """Fold the complete entry lines of ``buf[lo:hi]`` into ``row`` (counts, names, times).

    Works on the bytes in place: counting and searching, parsing only the few lines needed.
    """
    if lo >= hi:
        return
    lines = buf.count(b"\n", lo, hi)
    typed = buf.count(b"\n" + _LINE_START, lo, hi) + buf.startswith(_LINE_START, lo, hi)
    if typed != lines:
        _scan_region_parsed(row, buf[lo:hi], origin)
        return
    row.message_count += buf.count(b"\n" + _MESSAGE, lo, hi) + buf.startswith(_MESSAGE, lo, hi)
    if row.first_message is None:
        for start in _line_starts(buf, _MESSAGE, lo, hi):
            line = _line_at(buf, start, hi)
            if _USER in line:
                found = _loads_entry(line)
                if found is not None and found.get("role") == "user":
                    row.first_message = first_message_preview(found)
                    break
    start = _last_line_start(buf, _SESSION_INFO, lo, hi)
    if start >= 0:
        found = _loads_entry(_line_at(buf, start, hi))
        if found is not None and isinstance(found.get("name"), str):
            row.name = found["name"]
    match = _TS.search(buf, buf.rfind(b"\n", lo, hi - 1) + 1 if hi - 1 > lo else lo, hi)
    if match:
        row.modified_at = max(row.modified_at, match.group(1).decode("utf-8", "replace"))


def _scan_region_parsed(row: Row, buf: bytes, origin: str) -> None:
    """The slow path for lines not written by this store: parse every line."""
    for entry in parse_lines(buf, origin):
        kind = entry.get("type")
        if kind == "message":
            row.message_count += 1
            if row.first_message is None and entry.get("role") == "user":
                row.first_message = first_message_preview(entry)
        elif kind == "session_info" and isinstance(entry.get("name"), str):
            row.name = entry["name"]
        if isinstance(entry.get("ts"), str):
            row.modified_at = max(row.modified_at, entry["ts"])


def _same_header(fd: int, previous: Row) -> bool:
    """Whether the file still starts with the header the row was built from (not replaced)."""
    line = os.pread(fd, previous.offset, 0)
    cut = line.find(b"\n")
    if cut < 0:
        raise CorruptHeader("no complete header line")
    header = parse_header(line[:cut], previous.session_id)
    return header["createdAt"] == previous.created_at


def scan_file(
    directory: str, name: str, previous: Row | None, stat: tuple[int, int] | None = None
) -> Row:
    """Build or extend the row of one file; reads only the tail past ``previous.offset``.

    ``stat`` is the (size, mtime_ns) just listed, to save a syscall; reading up to that size
    is consistent with it even if the file grows meanwhile (the next refresh sees the rest).
    """
    session_id = id_from_file_name(name)
    if session_id is None:
        raise CorruptHeader("not a session file name")
    fd = os.open(os.path.join(directory, name), os.O_RDONLY)
    try:
        if stat is None:
            st = os.fstat(fd)
            stat = (st.st_size, st.st_mtime_ns)
        size = stat[0]
        if previous is not None and previous.offset <= size and _same_header(fd, previous):
            row = previous
            at = previous.offset  # the file offset of data[0]
            data = os.pread(fd, size - at, at)
            lo = 0
        else:
            data = os.pread(fd, size, 0)
            cut = data.find(b"\n")
            if cut < 0:
                raise CorruptHeader("no complete header line")
            header = parse_header(data[:cut], session_id)
            row = Row(
                file=name,
                session_id=session_id,
                size=0,
                mtime_ns=0,
                offset=0,
                cwd=str(header.get("cwd") or ""),
                created_at=header["createdAt"],
                modified_at=header["createdAt"],
                name=None,
                first_message=None,
                message_count=0,
                parent_session_id=header.get("parentSession"),
            )
            at, lo = 0, cut + 1
    finally:
        os.close(fd)
    end = max(lo, data.rfind(b"\n", lo) + 1)  # past the last complete line
    scan_region(row, data, lo, end, name)
    row.offset = at + end
    row.size, row.mtime_ns = stat
    return row


class SessionIndex:
    """One workspace's cache; every public method is safe to call from several threads."""

    def __init__(self, path: Path, sessions_dir: Path, prepare: Callable[[], None]) -> None:
        self.path = path
        self._prepare = prepare
        self.sessions_dir = sessions_dir
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._known: dict[str, tuple[int, int]] | None = None
        self._scanned_at: int | None = None
        self._dir_mtime: int | None = None

    # -- connection -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:
                log.warning("%s: index unreadable (%s); rebuilding it", self.path, exc)
                self._discard()
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        self._prepare()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 5000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                db.execute("DROP TABLE IF EXISTS sessions")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("SELECT count(*) FROM sessions").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        db.create_function("icontains", 2, _icontains, deterministic=True)
        return db

    def _discard(self) -> None:
        """Forget a broken index; the files are the truth, so this loses nothing."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._known = None
        self._scanned_at = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def _run(self, work: Callable[[sqlite3.Connection], object]) -> object:
        """Run ``work`` in a transaction; a corrupt database is rebuilt and the work retried."""
        with self._lock:
            if self._db is not None and self._db.in_transaction:
                return work(self._db)  # nested: part of the caller's transaction
            for attempt in (1, 2):
                db = self._conn()
                try:
                    db.execute("BEGIN IMMEDIATE")  # write lock now, so busy_timeout applies
                    result = work(db)
                    db.execute("COMMIT")
                    return result
                except sqlite3.DatabaseError as exc:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    if attempt == 2 or isinstance(exc, sqlite3.OperationalError):
                        raise
                    log.warning("%s: index corrupt (%s); rebuilding it", self.path, exc)
                    self._discard()
            raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- refresh ----------------------------------------------------------------------------

    def refresh(
        self, on_corrupt: Callable[[Path, CorruptHeader], None], *, full: bool = False
    ) -> None:
        """Bring the rows in step with the session files on disk.

        Writers update the index themselves, and creating or removing a file changes the
        directory's mtime; so unless ``full``, the stat of every file is skipped while the
        directory is unchanged (and not changed so recently that its mtime could hide a
        second change) and the last full scan is under ``RESCAN_NS`` old. Files changed in
        place by other programs are thus seen within that delay.
        """
        with self._lock:
            try:
                dir_mtime = os.stat(self.sessions_dir).st_mtime_ns
            except FileNotFoundError:
                dir_mtime = None
            now = time.time_ns()
            if (
                not full
                and self._scanned_at is not None
                and now - self._scanned_at < RESCAN_NS
                and dir_mtime == self._dir_mtime
                and dir_mtime is not None
                and now - dir_mtime > RACY_NS
            ):
                return
            self._full_refresh(on_corrupt)
            self._scanned_at, self._dir_mtime = now, dir_mtime

    def _full_refresh(self, on_corrupt: Callable[[Path, CorruptHeader], None]) -> None:
        current: dict[str, tuple[int, int]] = {}
        try:
            with os.scandir(self.sessions_dir) as it:
                for item in it:
                    name = item.name
                    if name.endswith(".jsonl") and not name.startswith("."):
                        try:
                            st = item.stat()
                        except FileNotFoundError:
                            continue
                        current[name] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass

        def work(db: sqlite3.Connection) -> None:
            known = self._load_known(db)
            gone = known.keys() - current.keys()
            db.executemany("DELETE FROM sessions WHERE file = ?", [(name,) for name in gone])
            for name in gone:
                del known[name]
            changed = [name for name, stat in current.items() if known.get(name) != stat]
            rows = [r for n in changed if (r := self._scan(db, n, current[n], on_corrupt))]
            db.executemany(_INSERT, map(_astuple, rows))
            for row in rows:
                known[row.file] = (row.size, row.mtime_ns)

        self._run(work)

    def refresh_file(
        self, name: str, on_corrupt: Callable[[Path, CorruptHeader], None]
    ) -> Row | None:
        """Bring one file's row up to date and return it (None if the file is gone or corrupt)."""

        def work(db: sqlite3.Connection) -> Row | None:
            known = self._load_known(db)
            try:
                st = os.stat(os.path.join(self.sessions_dir, name))
            except FileNotFoundError:
                db.execute("DELETE FROM sessions WHERE file = ?", (name,))
                known.pop(name, None)
                return None
            stat = (st.st_size, st.st_mtime_ns)
            if known.get(name) != stat:
                row = self._scan(db, name, stat, on_corrupt)
                if row is not None:
                    db.execute(_INSERT, _astuple(row))
                    known[name] = (row.size, row.mtime_ns)
            return self._get(db, name)

        return self._run(work)  # type: ignore[return-value]

    def _load_known(self, db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
        if self._known is None:
            rows = db.execute("SELECT file, size, mtime_ns FROM sessions")
            self._known = {file: (size, mtime) for file, size, mtime in rows}
        return self._known

    def _scan(
        self,
        db: sqlite3.Connection,
        name: str,
        stat: tuple[int, int],
        on_corrupt: Callable[[Path, CorruptHeader], None],
    ) -> Row | None:
        """The new row of a changed file, or None if it needs no insert (or is gone)."""
        known = self._load_known(db)
        previous = self._get(db, name) if name in known else None
        if previous is not None and (previous.size, previous.mtime_ns) == stat:
            known[name] = stat  # another process already indexed this state
            return None
        try:
            return scan_file(str(self.sessions_dir), name, previous, stat)
        except FileNotFoundError:
            db.execute("DELETE FROM sessions WHERE file = ?", (name,))
            known.pop(name, None)
        except CorruptHeader as exc:
            db.execute("DELETE FROM sessions WHERE file = ?", (name,))
            known.pop(name, None)
            on_corrupt(self.sessions_dir / name, exc)
        return None

    @staticmethod
    def _get(db: sqlite3.Connection, name: str) -> Row | None:
        found = db.execute(f"{_SELECT} WHERE file = ?", (name,)).fetchone()
        return Row(*found) if found else None

    # -- writes from the store --------------------------------------------------------------

    def record_append(
        self,
        name: str,
        old_offset: int,
        new_offset: int,
        mtime_ns: int,
        modified_at: str,
        messages: int,
        first_message: str | None,
        new_name: str | None,
    ) -> None:
        """Fold one appended line into the row, if the row was in step before it.

        Best effort: the line is already on disk, so a failing index (locked past the busy
        timeout, disk full) must not fail the append; the next refresh reads the line instead.
        """

        def work(db: sqlite3.Connection) -> None:
            cursor = db.execute(
                "UPDATE sessions SET size = ?, mtime_ns = ?, offset = ?,"
                " modified_at = max(modified_at, ?),"
                " message_count = message_count + ?,"
                " first_message = coalesce(first_message, ?), name = coalesce(?, name)"
                " WHERE file = ? AND offset = ?",
                (
                    new_offset,
                    mtime_ns,
                    new_offset,
                    modified_at,
                    messages,
                    first_message,
                    new_name,
                    name,
                    old_offset,
                ),
            )
            known = self._load_known(db)
            if cursor.rowcount:
                known[name] = (new_offset, mtime_ns)
            else:
                known.pop(name, None)

        try:
            self._run(work)
        except sqlite3.Error as exc:
            log.warning("%s: index not updated after an append (%s)", name, exc)
            if self._known is not None:
                self._known.pop(name, None)

    def forget(self, name: str) -> None:
        """Drop a file's row (deleted or moved away)."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sessions WHERE file = ?", (name,))
            self._load_known(db).pop(name, None)

        self._run(work)

    # -- reads ------------------------------------------------------------------------------

    def find(self, session_id: str) -> str | None:
        """The file name of a session, as last indexed."""

        def work(db: sqlite3.Connection) -> str | None:
            found = db.execute(
                "SELECT file FROM sessions WHERE session_id = ? LIMIT 1", (session_id,)
            ).fetchone()
            return found[0] if found else None

        return self._run(work)  # type: ignore[return-value]

    def query(
        self, after: tuple[str, str] | None, limit: int | None, query: str | None
    ) -> list[tuple[object, ...]]:
        """Rows newest first, strictly after the ``(modified_at, session_id)`` key ``after``.

        Each is a tuple in the field order of ``SessionInfo``, ending with the file's path.
        """
        sql = [_LISTED, "WHERE 1"]
        params: list[object] = [str(self.sessions_dir) + os.sep]
        if after is not None:
            sql.append("AND (modified_at, session_id) < (?, ?)")
            params.extend(after)
        if query:
            sql.append("AND (icontains(name, ?) OR icontains(first_message, ?))")
            params.extend([query.casefold()] * 2)
        sql.append("ORDER BY modified_at DESC, session_id DESC")
        if limit is not None:
            sql.append("LIMIT ?")
            params.append(limit)
        statement = " ".join(sql)

        def work(db: sqlite3.Connection) -> list[tuple[object, ...]]:
            return db.execute(statement, params).fetchall()

        return self._run(work)  # type: ignore[return-value]
