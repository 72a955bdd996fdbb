"""The listing cache: ``index.sqlite``, rebuilt from the JSONL files whenever it is missing.

Rows are keyed by file name and remember the size, mtime and byte offset they were built
from; a file whose size or mtime changed is brought up to date by reading only its new tail
(session files are append-only). Scanning works on bytes: the writer puts ``type`` first on
every line, so counting messages and finding the name needs no JSON parsing of every line.

The same database holds the full-text index (``docs`` + the FTS5 table ``fts``). It is filled
apart from the listing: each row's ``fts_offset`` says how far the file is indexed for search,
and a search first indexes what any file gained since, reading only those bytes (so listing
and appending never pay for search, and nothing is ever rebuilt but a file that was replaced).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from agent_ls.lazy_logging import get_logger

from .errors import CorruptHeader, IndexUnavailable, NotRegularFile, StoreError
from .files import kind_of, open_regular
from .format import (
    Entry,
    first_message_preview,
    id_from_file_name,
    is_entry_line,
    parse_lines,
    read_header,
    readable,
)
from .info import SessionInfo

if TYPE_CHECKING:  # imported by search and indexing only: listing starts faster without it
    from . import fulltext

log = get_logger(__name__)

SCHEMA_VERSION = 3
RESCAN_NS = 60_000_000_000  # the longest a file changed in place by another program goes unseen
RACY_NS = 1_000_000_000
_SCAN_BLOCK = 4 << 20
# Every write transaction is short (files are read outside them), so a longer wait means
# another process is stuck; the index is a cache, so give up and answer from the files.
BUSY_TIMEOUT_MS = 1000
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
    parent_session_id TEXT,
    tags TEXT,
    metadata TEXT,
    touched TEXT NOT NULL,
    fts_offset INTEGER NOT NULL,
    listing TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_order ON sessions (modified_at DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_id ON sessions (session_id);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    role TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_file ON docs (file);
CREATE INDEX IF NOT EXISTS sessions_unsearched ON sessions (file) WHERE fts_offset < offset;
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL);
CREATE TABLE IF NOT EXISTS writing (file TEXT PRIMARY KEY, pid INTEGER NOT NULL);
"""
_DROP = (
    "DROP TABLE IF EXISTS sessions; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS fts;"
    " DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS writing;"
)
_FTS_BATCH = 20_000  # documents written per transaction while catching up
RANK_WINDOW = 2_000  # a query matching this many documents or more lists the newest first
PREFIX_BELOW = 100  # the last word is also a prefix when it matches fewer documents whole

_LINE_START = b'{"type":"'
_MESSAGE = b'{"type":"message"'
_SESSION_INFO = b'{"type":"session_info"'
_CHECKPOINT = b'{"type":"checkpoint"'
_USER = b'"role":"user"'
_TS = re.compile(rb'"ts":"([^"\\]*)"')


_COLUMNS = (  # the ``sessions`` table's columns but ``listing``, in order: a ``Row``'s fields
    "file",
    "session_id",
    "size",
    "mtime_ns",
    "offset",
    "cwd",
    "created_at",
    "modified_at",
    "name",
    "first_message",
    "message_count",
    "parent_session_id",
    "tags",
    "metadata",
    "touched",
    "fts_offset",
)


class Row:
    """What the index knows about one session file.

    A plain class, not a dataclass: ``dataclasses`` imports ``inspect``, which was a tenth of
    the start-up of `agent-ls sessions list`.
    """

    __slots__ = _COLUMNS

    def __init__(
        self,
        file: str,
        session_id: str,
        size: int,
        mtime_ns: int,
        offset: int,
        cwd: str,
        created_at: str,
        modified_at: str,
        name: str | None,
        first_message: str | None,
        message_count: int,
        parent_session_id: str | None,
        tags: str | None = None,
        metadata: str | None = None,
        touched: str = "",
        fts_offset: int = 0,
    ) -> None:
        self.file = file
        self.session_id = session_id
        self.size = size
        self.mtime_ns = mtime_ns
        self.offset = offset
        self.cwd = cwd
        self.created_at = created_at
        self.modified_at = modified_at
        self.name = name
        self.first_message = first_message
        self.message_count = message_count
        self.parent_session_id = parent_session_id
        self.tags = tags  # JSON array, the last ``session_info`` that set tags
        self.metadata = metadata  # JSON object, every ``session_info``'s metadata merged
        self.touched = touched  # "\n"-separated paths the checkpoints name, "\n" at each end
        self.fts_offset = fts_offset  # the file is in the full-text index up to this byte


_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM sessions"
_LISTED = (
    "SELECT session_id, name, cwd, created_at, modified_at, message_count,"
    " coalesce(first_message, ''), parent_session_id, ? || file, tags, metadata FROM sessions"
)
# one encoder for every row (json.dumps with options builds a new one per call)
_LISTING_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_LISTINGS = "SELECT CAST(listing AS BLOB) AS listing, modified_at, session_id FROM sessions"
_INSERT = (
    f"INSERT OR REPLACE INTO sessions ({', '.join(_COLUMNS)}, listing) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?)"
)


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
    for prefix in (_SESSION_INFO, _CHECKPOINT):  # rare lines: parsed, in file order
        for start in _line_starts(buf, prefix, lo, hi):
            found = _loads_entry(_line_at(buf, start, hi))
            if found is not None:
                fold_details(row, found)
    match = _TS.search(buf, buf.rfind(b"\n", lo, hi - 1) + 1 if hi - 1 > lo else lo, hi)
    if match:
        row.modified_at = max(row.modified_at, match.group(1).decode("utf-8", "replace"))


def fold_details(row: Row, entry: Entry) -> None:
    """Fold a ``session_info`` (name, tags, metadata) or ``checkpoint`` (paths) into ``row``."""
    kind = entry.get("type")
    if kind == "checkpoint" and isinstance(entry.get("files"), list):
        touched = row.touched or "\n"
        for item in entry["files"]:
            path = item.get("path") if isinstance(item, dict) else None
            if isinstance(path, str) and "\n" not in path and f"\n{path}\n" not in touched:
                touched += readable(path) + "\n"
        row.touched = touched if touched != "\n" else ""
    if kind != "session_info":
        return
    if isinstance(entry.get("name"), str):
        row.name = readable(entry["name"])
    tags = entry.get("tags")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        row.tags = json.dumps(sorted({readable(t) for t in tags})) if tags else None
    metadata = entry.get("metadata")
    if isinstance(metadata, dict):
        merged = json.loads(row.metadata) if row.metadata else {}
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            elif isinstance(value, str):
                merged[readable(key)] = readable(value)
        row.metadata = json.dumps(merged, sort_keys=True, ensure_ascii=False) if merged else None


def fold_entry(row: Row, entry: Entry) -> None:
    """Fold one parsed entry into ``row`` (the slow path, and one append)."""
    if entry.get("type") == "message":
        row.message_count += 1
        if row.first_message is None and entry.get("role") == "user":
            row.first_message = first_message_preview(entry) or None
    fold_details(row, entry)
    if isinstance(entry.get("ts"), str):
        row.modified_at = max(row.modified_at, readable(entry["ts"]))


def _scan_region_parsed(row: Row, buf: bytes, origin: str) -> None:
    """The slow path for lines not written by this store: parse every line."""
    for entry in parse_lines(buf, origin):
        fold_entry(row, entry)


def _same_header(fd: int, previous: Row) -> bool:
    """Whether the file still starts with the header the row was built from (not replaced)."""
    header, _ = read_header(fd, previous.session_id)
    return header["createdAt"] == previous.created_at


def _new_row(name: str, session_id: str, header: Entry) -> Row:
    return Row(
        file=name,
        session_id=session_id,
        size=0,
        mtime_ns=0,
        offset=0,
        cwd=readable(str(header.get("cwd") or "")),
        created_at=header["createdAt"],
        modified_at=header["createdAt"],
        name=None,
        first_message=None,
        message_count=0,
        parent_session_id=header.get("parentSession"),
    )


def _scan_lines(fd: int, row: Row, start: int, size: int, origin: str) -> int:
    """Fold the complete lines of ``[start, size)`` into ``row`` a block at a time (memory
    stays bounded whatever the file's size); returns the end of the last complete line."""
    pos = start
    carry: list[bytes] = []
    while pos < size:
        block = os.pread(fd, min(_SCAN_BLOCK, size - pos), pos)
        if not block:
            break
        pos += len(block)
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            carry.append(block)  # inside one long line: wait for its end
            continue
        buf = b"".join([*carry, block[:cut]]) if carry else block[:cut]
        scan_region(row, buf, 0, len(buf), origin)
        carry = [block[cut:]] if cut < len(block) else []
    tail = b"".join(carry)
    if tail and is_entry_line(tail):  # complete but for its newline
        scan_region(row, tail + b"\n", 0, len(tail) + 1, origin)
        return pos
    return pos - len(tail)


def scan_file(
    directory: str, name: str, previous: Row | None, stat: tuple[int, int] | None = None
) -> Row:
    """Build or extend the row of one file; reads only the tail past ``previous.offset``.

    ``stat`` is the (size, mtime_ns) just listed, to save a syscall; reading up to that size
    is consistent with it even if the file grows meanwhile (the next refresh sees the rest).
    Anything but a regular file is refused (``NotRegularFile``) without blocking on it.
    """
    session_id = id_from_file_name(name)
    if session_id is None:
        raise CorruptHeader("not a session file name")
    fd = open_regular(os.path.join(directory, name))
    try:
        if stat is None:
            st = os.fstat(fd)
            stat = (st.st_size, st.st_mtime_ns)
        size = stat[0]
        if previous is not None and previous.offset <= size and _same_header(fd, previous):
            row, start = previous, previous.offset
        else:
            header, start = read_header(fd, session_id)
            row = _new_row(name, session_id, header)
        row.offset = _scan_lines(fd, row, start, size, name)
    finally:
        os.close(fd)
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
        self._skipped: dict[str, tuple[tuple[int, int] | None, str]] = {}

    # -- connection -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = self._open()
            except sqlite3.OperationalError as exc:  # locked, or cannot be opened: not corrupt
                raise IndexUnavailable(self.path, exc) from None
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
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                db.executescript(_DROP)
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("SELECT 1 FROM sessions LIMIT 1").fetchone()
            self._settle(db)
        except sqlite3.DatabaseError:
            db.close()
            raise
        db.create_function("icontains", 2, _icontains, deterministic=True)
        return db

    def _settle(self, db: sqlite3.Connection) -> None:
        """Re-encode every row's listing if the store moved: each holds its file's path."""
        here = str(self.sessions_dir)
        found = db.execute("SELECT value FROM meta WHERE key = 'sessions_dir'").fetchone()
        if found is not None and found[0] == here:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = [Row(*values) for values in db.execute(_SELECT)]
            db.executemany(_INSERT, map(self._astuple, rows))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('sessions_dir', ?)", (here,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _astuple(self, row: Row) -> tuple[object, ...]:
        """The row's columns, then its list entry as the CLI prints it (``SessionInfo.to_json``),
        encoded once here rather than on every list."""
        listing = _LISTING_JSON.encode(SessionInfo.from_row(row, self.sessions_dir).to_json())
        return (*(getattr(row, name) for name in _COLUMNS), listing)

    def _discard(self) -> None:
        """Forget a broken index; the files are the truth, so this loses nothing."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._known = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def _run(
        self, work: Callable[[sqlite3.Connection], object], *, write: bool = True, wait: bool = True
    ) -> object:
        """Run ``work`` in a transaction that is closed on every path, whatever ``work`` raises.

        A corrupt database is rebuilt and the work retried; any other sqlite failure (locked
        past the busy timeout, disk trouble) becomes ``IndexUnavailable``. Reads take no write
        lock, so in WAL mode they never wait for another process's writer; a write that must
        not wait (``wait=False``) fails at once when another process is writing.
        """
        with self._lock:
            if self._db is not None and self._db.in_transaction:
                return work(self._db)  # nested: part of the caller's transaction
            for attempt in (1, 2):
                try:
                    db = self._conn()
                    # a write takes its lock up front, so busy_timeout applies to it
                    if not wait:
                        db.execute("PRAGMA busy_timeout = 0")
                    try:
                        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    finally:
                        if not wait:
                            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                except sqlite3.OperationalError as exc:
                    raise IndexUnavailable(self.path, exc) from None
                try:
                    result = work(db)
                    db.execute("COMMIT")
                    return result
                except BaseException as exc:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    self._known = None  # the cache may hold what was rolled back
                    if isinstance(exc, sqlite3.OperationalError):
                        raise IndexUnavailable(self.path, exc) from None
                    if not isinstance(exc, sqlite3.DatabaseError):
                        raise
                    if attempt == 2:
                        raise IndexUnavailable(self.path, exc) from None
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

        A full scan stats every file (tens of milliseconds for ten thousand). It is skipped,
        unless ``full``, while nothing can have changed unseen since the last one, by any
        process: the ``sessions/`` directory's mtime is the one that scan saw (creating,
        removing or renaming a file changes it) and was then over ``RACY_NS`` old (a second
        change in the same clock tick cannot hide), and the scan is under ``RESCAN_NS`` old.
        Appends need no scan: every writer folds its lines into the rows itself and, while
        open, is named in ``writing``, whose files are checked on every refresh (so a writer
        that died between a line and its row hides nothing). What waits for the next full scan
        is a file another program changed in place.
        """
        with self._lock:
            try:
                dir_mtime: int | None = os.stat(self.sessions_dir).st_mtime_ns
            except FileNotFoundError:
                dir_mtime = None
            started = time.time_ns()
            writing = None if full or dir_mtime is None else self._unchanged(dir_mtime, started)
            if writing is None:
                self._full_refresh(on_corrupt, dir_mtime, started)
                return
            for name, pid in writing:
                self._check_writing(name, pid, on_corrupt)

    def _unchanged(self, dir_mtime: int, now: int) -> list[tuple[str, int]] | None:
        """The files open for writing, if the last full scan still holds; else None."""

        def work(db: sqlite3.Connection) -> list[tuple[str, int]] | None:
            scan = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'scan_%'"))
            started = scan.get("scan_started_ns")
            if (
                started is None
                or scan.get("scan_dir_mtime_ns") != dir_mtime
                or dir_mtime >= started - RACY_NS
                or not 0 <= now - started < RESCAN_NS
            ):
                return None
            return db.execute("SELECT file, pid FROM writing").fetchall()

        return self._run(work, write=False)  # type: ignore[return-value]

    def _check_writing(
        self, name: str, pid: int, on_corrupt: Callable[[Path, CorruptHeader], None]
    ) -> None:
        """Bring an open writer's file into its row; forget the mark of a writer that died."""
        try:
            self.refresh_file(name, on_corrupt)
        except NotRegularFile as exc:
            self._skip(name, None, str(exc))
            return
        if not _alive(pid):
            self._write_best_effort(
                lambda db: db.execute("DELETE FROM writing WHERE file = ? AND pid = ?", (name, pid))
            )

    def _full_refresh(
        self,
        on_corrupt: Callable[[Path, CorruptHeader], None],
        dir_mtime: int | None,
        started: int,
    ) -> None:
        """Scan ``sessions/``, and record the scan if every row it read could be stored."""
        current: dict[str, tuple[int, int]] = {}
        try:
            with os.scandir(self.sessions_dir) as it:
                for item in it:
                    name = item.name
                    if not name.endswith(".jsonl") or name.startswith("."):
                        continue
                    try:
                        st = item.stat()
                    except FileNotFoundError:
                        continue
                    except OSError as exc:  # a symlink loop, say
                        self._skip(name, None, exc.strerror or str(exc))
                        continue
                    if not stat.S_ISREG(st.st_mode):  # never open a FIFO, a directory, …
                        self._skip(name, (st.st_size, st.st_mtime_ns), kind_of(st.st_mode))
                        continue
                    current[name] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass
        # Stale rows, read without a write lock; the files are scanned outside any transaction
        # (a big one takes a while) and the new rows written in one short one.

        def stale(db: sqlite3.Connection) -> list[tuple[str, Row | None]]:
            known = self._load_known(db, fresh=True)  # other processes add rows too
            return [
                (name, self._get(db, name) if name in known else None)
                for name, state in current.items()
                if known.get(name) != state
            ]

        changed: list[tuple[str, Row | None]] = self._run(stale, write=False)  # type: ignore[assignment]
        rows: list[tuple[Row, tuple[int, int] | None]] = []  # with the row's state as read
        corrupt: list[tuple[str, CorruptHeader]] = []
        for name, previous in changed:
            read = None if previous is None else (previous.size, previous.mtime_ns)
            row = self._scan_one(name, previous, current[name], corrupt)
            if row is not None:
                rows.append((row, read))
        values = [self._astuple(row) for row, _ in rows]  # encoded before the write lock

        def work(db: sqlite3.Connection) -> None:
            known = self._load_known(db)  # as read above, and what this process wrote since
            gone = [n for n in known if n not in current] + [n for n, _ in corrupt]
            db.executemany("DELETE FROM sessions WHERE file = ?", [(n,) for n in gone])
            for name in gone:
                _drop_docs(db, name)
            for name in gone:
                known.pop(name, None)
            # another process (a writer's append) may have moved a row on since it was read:
            # keep its row, and do not record the scan, so the next one looks again
            now = _states(db, [row.file for row, _ in rows])
            kept = [i for i, (row, read) in enumerate(rows) if now.get(row.file) == read]
            raced = len(kept) < len(rows)
            db.executemany(_INSERT, [values[i] for i in kept])
            for i in kept:
                known[rows[i][0].file] = (rows[i][0].size, rows[i][0].mtime_ns)
            db.executemany("DELETE FROM writing WHERE file = ?", [(n,) for n in gone])
            if dir_mtime is not None and not raced:
                db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("scan_dir_mtime_ns", dir_mtime), ("scan_started_ns", started)],
                )

        self._write_best_effort(work)
        for name, exc in corrupt:
            on_corrupt(self.sessions_dir / name, exc)

    def _scan_one(
        self,
        name: str,
        previous: Row | None,
        state: tuple[int, int],
        corrupt: list[tuple[str, CorruptHeader]],
    ) -> Row | None:
        """The new row of a changed file; None (and the reason logged) if it cannot be read."""
        if previous is not None and (previous.size, previous.mtime_ns) == state:
            return previous  # another process already indexed this state
        try:
            return scan_file(str(self.sessions_dir), name, previous, state)
        except FileNotFoundError:
            return None
        except CorruptHeader as exc:
            corrupt.append((name, exc))
        except (OSError, StoreError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._skip(name, state, reason)
        return None

    def _skip(self, name: str, stat: tuple[int, int] | None, reason: str) -> None:
        """Leave out a file that cannot be read; warn once per state of it, not every list."""
        if self._skipped.get(name) != (stat, reason):
            self._skipped[name] = (stat, reason)
            log.warning("%s: skipped, not listed (%s)", self.sessions_dir / name, reason)

    @property
    def skipped(self) -> dict[str, str]:
        """Files of ``sessions/`` left out of the list, with the reason (as last seen)."""
        return {name: reason for name, (_, reason) in self._skipped.items()}

    def refresh_file(
        self, name: str, on_corrupt: Callable[[Path, CorruptHeader], None]
    ) -> Row | None:
        """Bring one file's row up to date and return it (None if the file is gone or corrupt)."""
        try:
            st = os.stat(os.path.join(self.sessions_dir, name))
        except FileNotFoundError:
            self.forget(name)
            return None
        state = (st.st_size, st.st_mtime_ns)
        if not stat.S_ISREG(st.st_mode):  # asked for by name: say what is wrong with it
            raise NotRegularFile(self.sessions_dir / name, kind_of(st.st_mode))
        previous: Row | None = self._run(lambda db: self._get(db, name), write=False)  # type: ignore[assignment]
        if previous is not None and (previous.size, previous.mtime_ns) == state:
            return previous
        try:
            row = scan_file(str(self.sessions_dir), name, previous, state)
        except FileNotFoundError:
            self.forget(name)
            return None
        except CorruptHeader as exc:
            self.forget(name)
            on_corrupt(self.sessions_dir / name, exc)
            return None

        def work(db: sqlite3.Connection) -> None:
            db.execute(_INSERT, self._astuple(row))
            self._load_known(db)[name] = (row.size, row.mtime_ns)

        self._write_best_effort(work)
        return row

    def begin_writing(self, name: str) -> None:
        """A writer opened the file: refreshes check it until ``end_writing``."""
        mark = (name, os.getpid())
        if not self._write_best_effort(
            lambda db: db.execute("INSERT OR REPLACE INTO writing VALUES (?, ?)", mark)
        ):
            self.invalidate()

    def end_writing(self, name: str, on_corrupt: Callable[[Path, CorruptHeader], None]) -> None:
        """The writer closed: bring its row in step, then drop the mark.

        A turn ends here, on the server's event loop, so dropping the mark does not wait for
        another process's write: if one is under way the mark stays, and lists go on checking
        the file (one stat) until this writer's next close or this process's end.
        """
        try:
            self.refresh_file(name, on_corrupt)
            self._run(
                lambda db: db.execute("DELETE FROM writing WHERE file = ?", (name,)), wait=False
            )
        except IndexUnavailable as exc:
            log.info("%s: writing mark kept (%s)", name, exc)
        except (OSError, StoreError) as exc:
            log.warning("%s: index not brought up to date after writing (%s)", name, exc)

    def invalidate(self) -> None:
        """Make every process's next refresh a full scan: a change could not be recorded.

        The directory's mtime is the signal refreshes trust, so touching it is enough.
        """
        with contextlib.suppress(OSError):
            os.utime(self.sessions_dir)

    def _write_best_effort(self, work: Callable[[sqlite3.Connection], None]) -> bool:
        """Store rows just read from the files. The index is a cache: when another process
        holds it past the busy timeout, answer from the files and let a later refresh store
        them, rather than fail the request."""
        try:
            self._run(work)
        except IndexUnavailable as exc:
            log.warning("%s", exc)
            return False
        return True

    def _load_known(
        self, db: sqlite3.Connection, *, fresh: bool = False
    ) -> dict[str, tuple[int, int]]:
        """Each indexed file's ``(size, mtime_ns)``: as this process last saw the table, or
        read again (``fresh``), as a full scan needs it."""
        if self._known is None or fresh:
            rows = db.execute("SELECT file, size, mtime_ns FROM sessions")
            self._known = {file: (size, mtime) for file, size, mtime in rows}
        return self._known

    @staticmethod
    def _get(db: sqlite3.Connection, name: str) -> Row | None:
        found = db.execute(f"{_SELECT} WHERE file = ?", (name,)).fetchone()
        return Row(*found) if found else None

    # -- writes from the store --------------------------------------------------------------

    def record_append(
        self, name: str, old_offset: int, new_offset: int, mtime_ns: int, entry: Entry
    ) -> None:
        """Fold one appended entry into the row, if the row was in step before it.

        Best effort: the line is already on disk, so a failing index (locked past the busy
        timeout, disk full) must not fail the append; every process's next refresh then scans
        (``invalidate``) and reads the line. The full-text index is left to the next search,
        which reads only what was appended: an append costs one short write whatever the size
        of the search index.
        """

        def work(db: sqlite3.Connection) -> None:
            known = self._load_known(db)
            row = self._get(db, name)
            if row is None or row.offset != old_offset:
                known.pop(name, None)  # out of step: the next look at the file reads it
                return
            fold_entry(row, entry)
            row.size = row.offset = new_offset
            row.mtime_ns = mtime_ns
            db.execute(_INSERT, self._astuple(row))
            known[name] = (new_offset, mtime_ns)

        try:
            self._run(work)
        except (IndexUnavailable, sqlite3.Error) as exc:
            log.warning("%s: index not updated after an append (%s)", name, exc)
            if self._known is not None:
                self._known.pop(name, None)
            self.invalidate()

    def forget(self, name: str) -> None:
        """Drop a file's row (deleted or moved away)."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sessions WHERE file = ?", (name,))
            _drop_docs(db, name)
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

        return self._run(work, write=False)  # type: ignore[return-value]

    def query(
        self,
        after: tuple[str, str] | None,
        limit: int | None,
        query: str | None,
        filters: Filters | None = None,
    ) -> list[tuple[object, ...]]:
        """Rows newest first, strictly after the ``(modified_at, session_id)`` key ``after``.

        Each is a tuple in the field order of ``SessionInfo`` (the file's path, then tags and
        metadata as JSON). ``filters`` keeps only sessions with every tag, every metadata
        value, and a checkpoint naming the path.
        """
        return self._rows(*self._statement(_LISTED, after, limit, query, filters))

    def listings(
        self,
        after: tuple[str, str] | None,
        limit: int | None,
        query: str | None,
        filters: Filters | None = None,
    ) -> list[tuple[bytes, str, str]]:
        """As ``query``, each row as ``(listing, modified_at, session_id)``: its list entry as
        UTF-8 JSON (``SessionInfo.to_json``), for output that is JSON anyway."""
        statement, params = self._statement(_LISTINGS, after, limit, query, filters)
        return self._rows(statement, params)  # type: ignore[return-value]

    def joined_listings(
        self, after: tuple[str, str] | None, query: str | None, filters: Filters | None = None
    ) -> bytes:
        """Every listing of ``listings(after, None, …)`` joined with commas by sqlite: one
        string instead of a Python object per session (a list of ten thousand in a new
        process took a third less time). SQLite hands an aggregate the rows of an ordered
        subquery in that order (it never flattens such a subquery into an aggregate query);
        test_sessions_index checks the order."""
        inner, params = self._statement(_LISTINGS, after, None, query, filters)

        def work(db: sqlite3.Connection) -> bytes:
            found = db.execute(
                f"SELECT CAST(group_concat(listing, ',') AS BLOB) FROM ({inner})", params
            ).fetchone()[0]
            return found or b""

        return self._run(work, write=False)  # type: ignore[return-value]

    def _rows(self, statement: str, params: list[object]) -> list[tuple[object, ...]]:
        def work(db: sqlite3.Connection) -> list[tuple[object, ...]]:
            return db.execute(statement, params).fetchall()

        return self._run(work, write=False)  # type: ignore[return-value]

    def _statement(
        self,
        select: str,
        after: tuple[str, str] | None,
        limit: int | None,
        query: str | None,
        filters: Filters | None,
    ) -> tuple[str, list[object]]:
        """``select`` with the conditions and order of a list, and its parameters."""
        sql = [select, "WHERE 1"]
        params: list[object] = [str(self.sessions_dir) + os.sep] if select == _LISTED else []
        if after is not None:
            sql.append("AND (modified_at, session_id) < (?, ?)")
            params.extend(after)
        if query:
            sql.append("AND (icontains(name, ?) OR icontains(first_message, ?))")
            params.extend([query.casefold()] * 2)
        if filters is not None:
            for tag in filters.tags:
                sql.append("AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)")
                params.append(tag)
            for key, value in filters.metadata.items():
                sql.append("AND metadata IS NOT NULL AND json_extract(metadata, ?) = ?")
                params.extend([_json_path(key), value])
            if filters.touched is not None:
                sql.append("AND instr(touched, ?) > 0")
                params.append(f"\n{filters.touched}\n")
        sql.append("ORDER BY modified_at DESC, session_id DESC")
        if limit is not None:
            sql.append("LIMIT ?")
            params.append(limit)
        return " ".join(sql), params

    def index_text(self) -> int:
        """Add to the full-text index what the files gained since it last looked; returns
        how many files were read. Files are read outside any transaction, a batch of
        documents is written in each short one."""

        def pending(db: sqlite3.Connection) -> list[tuple[str, int, int]]:
            return db.execute(
                "SELECT file, fts_offset, offset FROM sessions WHERE fts_offset < offset"
            ).fetchall()

        todo: list[tuple[str, int, int]] = self._run(pending, write=False)  # type: ignore[assignment]
        batch: list[tuple[str, int, int, list[Doc]]] = []
        size = 0
        for name, start, end in todo:
            try:
                docs = read_docs(self.sessions_dir, name, start, end)
            except (OSError, StoreError) as exc:  # gone, or unreadable: the next list says
                log.warning("%s: not searchable (%s)", name, exc)
                continue
            batch.append((name, start, end, docs))
            size += len(docs)
            if size >= _FTS_BATCH:
                self._write_best_effort(_store_docs(batch))
                batch, size = [], 0
        if batch:
            self._write_best_effort(_store_docs(batch))
        return len(todo)

    def search(self, query: fulltext.Expression, limit: int, offset: int) -> list[Hit]:
        """The best ``limit`` matches of a query after the first ``offset``.

        The last word is a prefix only when, as a whole word, it matches fewer than
        ``PREFIX_BELOW`` documents (FTS5 reads a prefix's every document first: a common word
        would cost a scan of them all). A query matching ``RANK_WINDOW`` documents or more is
        answered newest first (the most recently indexed; rank 0): bm25 would count every
        document of its common words, and so many matches say little about which are wanted.
        Neither choice depends on the page, so paging is stable.
        """

        from . import fulltext

        def newest(db: sqlite3.Connection, expression: str) -> int:
            return db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? LIMIT ?)",
                (expression, RANK_WINDOW),
            ).fetchone()[0]

        def work(db: sqlite3.Connection) -> list[Hit]:
            expression = query.exact
            matches = newest(db, expression)
            if query.prefix is not None and matches < PREFIX_BELOW:
                expression = query.prefix
                matches = newest(db, expression)
            order = "rank" if matches < RANK_WINDOW else "rowid DESC"
            score = "rank" if matches < RANK_WINDOW else "0.0"
            ranked = db.execute(
                f"SELECT rowid, {score}, snippet(fts, 0, ?, ?, '…', ?) FROM fts"
                f" WHERE fts MATCH ? ORDER BY {order} LIMIT ? OFFSET ?",
                (
                    fulltext.OPEN,
                    fulltext.CLOSE,
                    fulltext.SNIPPET_TOKENS,
                    expression,
                    limit,
                    offset,
                ),
            ).fetchall()
            hits = []
            for rowid, rank, snippet in ranked:
                found = db.execute(
                    "SELECT s.session_id, s.name, s.cwd, d.entry_id, d.role, d.ts"
                    " FROM docs d JOIN sessions s ON s.file = d.file WHERE d.rowid = ?",
                    (rowid,),
                ).fetchone()
                if found is not None:
                    hits.append(Hit(rank, *found, snippet))
            return hits

        return self._run(work, write=False)  # type: ignore[return-value]


def _states(db: sqlite3.Connection, names: list[str]) -> dict[str, tuple[int, int]]:
    """``(size, mtime_ns)`` of these files' rows now, 500 names a query."""
    states: dict[str, tuple[int, int]] = {}
    for at in range(0, len(names), 500):
        chunk = names[at : at + 500]
        marks = ", ".join("?" for _ in chunk)
        query = f"SELECT file, size, mtime_ns FROM sessions WHERE file IN ({marks})"
        states.update((file, (size, mtime)) for file, size, mtime in db.execute(query, chunk))
    return states


def _alive(pid: int) -> bool:
    """Whether a process has this pid (a reused one only keeps a writer's mark longer)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Filters(NamedTuple):
    """What a list keeps: sessions with all these tags and metadata values, and (if set) a
    checkpoint naming this absolute path."""

    tags: tuple[str, ...] = ()
    metadata: Mapping[str, str] = MappingProxyType({})
    touched: str | None = None


class Hit(NamedTuple):
    """One full-text match, as the index holds it (``snippet`` still carries FTS5's marks)."""

    rank: float
    session_id: str
    name: str | None
    cwd: str
    entry_id: str
    role: str
    ts: str
    snippet: str


Doc = tuple[str, str, str, str]  # entry id, role, ts, text


def _json_path(key: str) -> str:
    return '$."' + key.replace('"', '""') + '"'


def read_docs(directory: Path, name: str, start: int, end: int) -> list[Doc]:
    """The search documents of the complete lines in ``[start, end)`` of a session file, read
    4 MB at a time."""
    from . import fulltext

    docs: list[Doc] = []
    fd = open_regular(os.path.join(directory, name))
    try:
        if start == 0:
            _, start = read_header(fd, id_from_file_name(name) or "")
        pos = start
        while pos < end:
            block = os.pread(fd, min(_SCAN_BLOCK, end - pos), pos)
            if not block:
                break
            cut = block.rfind(b"\n") + 1 if pos + len(block) < end else len(block)
            if cut == 0:  # one line longer than a block: read it whole
                cut = len(block := os.pread(fd, end - pos, pos))
            for entry in parse_lines(block[:cut], name):
                entry_id, ts = entry.get("id"), entry.get("ts")
                if not isinstance(ts, str):
                    ts = ""
                docs.extend((entry_id, role, ts, text) for role, text in fulltext.entry_docs(entry))
            pos += cut
    finally:
        os.close(fd)
    return docs


def _drop_docs(db: sqlite3.Connection, name: str) -> None:
    db.execute("DELETE FROM fts WHERE rowid IN (SELECT rowid FROM docs WHERE file = ?)", (name,))
    db.execute("DELETE FROM docs WHERE file = ?", (name,))


def _insert_docs(db: sqlite3.Connection, name: str, docs: list[Doc]) -> None:
    if not docs:
        return
    first = db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM docs").fetchone()[0]
    rowids = range(first, first + len(docs))
    db.executemany(
        "INSERT INTO docs (rowid, file, entry_id, role, ts) VALUES (?, ?, ?, ?, ?)",
        [(r, name, d[0], d[1], d[2]) for r, d in zip(rowids, docs, strict=True)],
    )
    db.executemany(
        "INSERT INTO fts (rowid, body) VALUES (?, ?)",
        [(r, d[3]) for r, d in zip(rowids, docs, strict=True)],
    )


def _store_docs(
    batch: list[tuple[str, int, int, list[Doc]]],
) -> Callable[[sqlite3.Connection], None]:
    """The write of a batch of files' documents; a file whose row moved meanwhile (another
    process indexed it, or it was rebuilt) is left for the next search."""

    def work(db: sqlite3.Connection) -> None:
        for name, start, end, docs in batch:
            found = db.execute("SELECT fts_offset FROM sessions WHERE file = ?", (name,)).fetchone()
            if found is None or found[0] != start:
                continue
            if start == 0:
                _drop_docs(db, name)
            _insert_docs(db, name, docs)
            db.execute("UPDATE sessions SET fts_offset = ? WHERE file = ?", (end, name))

    return work
