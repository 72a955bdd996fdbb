"""``SessionStore``: one workspace's sessions: create, list, open, write, fork, delete."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import heapq
import json
import os
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from agent_ls.lazy_logging import get_logger

from . import layout
from .checkpoint_view import CheckpointView
from .entry_ids import EntryIds
from .errors import (
    CorruptHeader,
    EntryNotFound,
    IndexUnavailable,
    InvalidCursor,
    SessionExists,
    SessionNotFound,
    StoreError,
)
from .files import open_regular
from .format import (
    ENTRY_KEYS,
    Entry,
    encode,
    file_name,
    id_from_file_name,
    iso_time,
    make_header,
    new_entry_id,
    new_session_id,
    now_iso,
    validate_custom_id,
    validate_session_id,
    write_new_file,
)
from .index import Filters, SessionIndex, scan_file
from .info import SessionInfo
from .lock import SessionLock
from .session import Session, read_bounds

log = get_logger(__name__)

__all__ = ["Session", "SessionInfo", "SessionStore", "SessionWriter", "list_all_workspaces"]

_LEAF = object()
WARM_BYTES = 8 << 20  # smaller sessions are scanned for ids when their writer opens
KEEP_OPEN = 4  # sessions whose ids and parsed view a store keeps between writers


def encode_cursor(key: tuple[str, str]) -> str:
    """An opaque cursor for the position just after ``key``."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The key a cursor stands for; ``InvalidCursor`` for anything this store did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        modified_at, session_id = json.loads(raw)
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise InvalidCursor(cursor) from None
    if not isinstance(modified_at, str) or not isinstance(session_id, str):
        raise InvalidCursor(cursor)
    return modified_at, session_id


class SessionWriter:
    """The one writer of a session: holds its lock, appends whole lines with ``O_APPEND``."""

    def __init__(self, store: SessionStore, session_id: str, lock: SessionLock) -> None:
        self._store = store
        self._lock = lock
        self.session_id = session_id
        path = store._locate(session_id)
        try:
            self._fd = open_regular(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise SessionNotFound(session_id) from None
        try:
            st = os.fstat(self._fd)
            header, header_end, end = read_bounds(self._fd, st.st_size, session_id)
            if end < st.st_size:
                log.warning(
                    "%s: dropping a torn last line (%d bytes)",
                    path.name,
                    st.st_size - end,
                )
                os.ftruncate(self._fd, end)
            elif os.pread(self._fd, 1, end - 1) != b"\n":
                # a complete last line missing only its newline: end it before appending
                log.warning("%s: adding the newline the last line lacked", path.name)
                end += os.write(self._fd, b"\n")
            identity = (st.st_dev, st.st_ino, header["createdAt"])
            self._ids = store._entry_ids(session_id, identity, end)
            self._ids.read(self._fd, end)
        except BaseException:
            os.close(self._fd)
            raise
        store._index.begin_writing(path.name)  # listings check the file while it is open
        self._path = path
        self._mutex = threading.Lock()
        self.session = store._reuse(session_id, identity, end) or Session(
            path, header, header_end, end
        )

    @property
    def closed(self) -> bool:
        """Whether the writer was closed (its lock is released)."""
        return self._fd < 0

    def append(self, entry: Entry, parent_id: str | object | None = _LEAF) -> Entry:
        """Write one entry as one line; assigns ``id``, ``parentId`` (default: the leaf), ``ts``."""
        kind = entry.get("type")
        if not isinstance(kind, str) or kind in ("session", "leaf"):
            raise ValueError(f"cannot append an entry of type {kind!r}")
        with self._mutex:
            session = self.session
            if parent_id is _LEAF:
                parent = session.leaf_id
            elif parent_id is None or isinstance(parent_id, str):
                parent = parent_id
                if parent is not None and not session.has(parent):
                    raise EntryNotFound(self.session_id, parent)
            else:
                raise TypeError("parent_id must be an entry id or None")
            return self._write(kind, parent, entry)

    def set_leaf(self, entry_id: str | None) -> Entry:
        """Move the branch point (rewind) with a ``leaf`` entry, so it survives reopening."""
        with self._mutex:
            if entry_id is not None:
                target = self.session.get(entry_id)
                if target.get("type") == "leaf":
                    raise EntryNotFound(self.session_id, entry_id)
            return self._write("leaf", self.session.leaf_id, {"targetId": entry_id})

    def _write(self, kind: str, parent: str | None, entry: Entry) -> Entry:
        if self._fd < 0:
            raise StoreError(f"the writer of session {self.session_id} is closed")
        session = self.session
        out: Entry = {
            "type": kind,
            "id": new_entry_id(self._ids),
            "parentId": parent,
            "ts": now_iso(),
        }
        for key, value in entry.items():
            if key not in ENTRY_KEYS:
                out[key] = value
        line = encode(out)
        old_end = session.end_offset
        written = os.write(self._fd, line)
        if written != len(line):
            os.ftruncate(self._fd, old_end)
            raise StoreError(f"short write to session {self.session_id}; nothing was appended")
        new_end = old_end + written
        session._added(out, new_end)
        self._ids.add(out["id"], new_end)
        self._store._index.record_append(
            self._path.name, old_end, new_end, os.fstat(self._fd).st_mtime_ns, out
        )
        return out

    def sync(self) -> None:
        """fsync the file (the end of a turn)."""
        if self._fd >= 0:
            os.fsync(self._fd)

    def close(self) -> None:
        """Release the lock and the file; idempotent."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
            self._store._index.end_writing(self._path.name, self._store._move_aside)
            _remember(self._store._parsed, self.session_id, (self._ids.identity, self.session))
            self._lock.release()
            self._store._writers.pop(self.session_id, None)

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SessionStore:
    """The sessions of one workspace folder (see ``docs/storage.md`` for the files)."""

    def __init__(self, workspace: Path, *, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else layout.store_root()
        self.workspace = Path(os.path.realpath(workspace))
        self._setup(layout.workspace_dir(self.root, self.workspace))

    @classmethod
    def at(cls, directory: Path, *, root: Path | None = None) -> SessionStore:
        """The store in an existing workspace directory (for listing every workspace)."""
        store = cls.__new__(cls)
        store.root = Path(root) if root is not None else directory.parent.parent
        store.workspace = directory
        store._setup(directory)
        return store

    def _setup(self, directory: Path) -> None:
        self.dir = directory
        self.sessions_dir = directory / layout.SESSIONS
        self.trash_dir = directory / layout.TRASH
        self.corrupt_dir = directory / layout.CORRUPT
        self.locks_dir = directory / layout.LOCKS
        self._index = SessionIndex(directory / layout.INDEX, self.sessions_dir, self._ensure_dirs)
        self._writers: dict[str, SessionWriter] = {}
        self._names: dict[str, str] = {}
        self._ids: dict[str, EntryIds] = {}
        self._ids_lock = threading.Lock()
        self._warming: dict[str, threading.Thread] = {}
        self._parsed: dict[str, tuple[tuple[int, int, str], Session]] = {}

    def _reuse(self, session_id: str, identity: tuple[int, int, str], end: int) -> Session | None:
        """The last writer's view of the session, if the file is the same and nobody appended
        since: the next turn then starts with the active path already in memory."""
        kept = self._parsed.pop(session_id, None)
        if kept is None or kept[0] != identity or kept[1].end_offset != end:
            return None
        return kept[1]

    def _entry_ids(self, session_id: str, identity: tuple[int, int, str], end: int) -> EntryIds:
        """The ids of a session file, kept between writers: the next turn's writer reads only
        what was appended since (a different or shrunk file under the name starts over)."""
        warming = self._warming.pop(session_id, None)
        if warming is not None:
            warming.join()  # a prompt right after a switch waits for the rest of the scan
        with self._ids_lock:
            ids = self._ids.get(session_id)
            if ids is None or ids.identity != identity or ids.end > end:
                ids = EntryIds(identity)
            _remember(self._ids, session_id, ids)
        return ids

    def _warm(self, session_id: str, session: Session) -> None:
        """Read a big session's entry ids in the background once it is opened, so its first
        prompt does not wait for (or stall the event loop on) a scan of the whole file."""
        if session.end_offset < WARM_BYTES or session_id in self._ids:
            return
        if session_id in self._warming:
            return

        def scan() -> None:
            try:
                fd = open_regular(session.file)
            except (OSError, StoreError):
                return  # the writer will find out and say why
            try:
                st = os.fstat(fd)
                ids = EntryIds((st.st_dev, st.st_ino, session.header["createdAt"]))
                ids.read(fd, session.end_offset)
            finally:
                os.close(fd)
            with self._ids_lock:
                if session_id not in self._ids:
                    _remember(self._ids, session_id, ids)

        thread = threading.Thread(target=scan, name=f"entry-ids-{session_id}", daemon=True)
        self._warming[session_id] = thread
        thread.start()

    def _ensure_dirs(self) -> None:
        for sub in (self.sessions_dir, self.trash_dir, self.locks_dir):
            layout.ensure_dir(sub, below=self.root)

    def close(self) -> None:
        """Close every writer this store opened and the index."""
        for writer in list(self._writers.values()):
            writer.close()
        self._index.close()

    # -- finding files ----------------------------------------------------------------------

    def _locate(self, session_id: str) -> Path:
        validate_session_id(session_id)
        if not self.sessions_dir.is_dir():
            raise SessionNotFound(session_id)
        name = self._names.get(session_id)
        if name is not None and (self.sessions_dir / name).exists():
            return self.sessions_dir / name
        try:
            name = self._index.find(session_id)
        except IndexUnavailable as exc:  # the files are the truth: look for it by name
            log.warning("%s", exc)
            name = None
        if name is None or not (self.sessions_dir / name).exists():
            name = self._scan_for(session_id)
        self._names[session_id] = name
        return self.sessions_dir / name

    def _scan_for(self, session_id: str) -> str:
        suffix = f"_{session_id}.jsonl"
        with contextlib.suppress(FileNotFoundError), os.scandir(self.sessions_dir) as it:
            for item in it:
                if item.name.endswith(suffix) and id_from_file_name(item.name) == session_id:
                    return item.name
        raise SessionNotFound(session_id)

    def _move_aside(self, path: Path, error: CorruptHeader) -> None:
        """A file whose header is unreadable is kept, untouched, in ``corrupt/``."""
        layout.ensure_dir(self.corrupt_dir, below=self.root)
        target = self.corrupt_dir / path.name
        if target.exists():
            target = self.corrupt_dir / f"{path.name}.{os.getpid()}.{now_iso().replace(':', '-')}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return
        log.warning("%s: corrupt header (%s); moved to %s", path.name, error, target)
        self._index.forget(path.name)

    def _open_session(self, session_id: str) -> Session:
        path = self._locate(session_id)
        try:
            return Session.open(path, session_id)
        except CorruptHeader as exc:
            self._move_aside(path, exc)
            raise SessionNotFound(session_id) from None

    # -- sessions ---------------------------------------------------------------------------

    def create(self, name: str | None = None, session_id: str | None = None) -> SessionInfo:
        """A new session, its file and header written at once (listed from now on).

        ``session_id`` is the caller's choice (``validate_custom_id``); ``SessionExists`` if a
        session of the workspace, live or in the trash, has it already.
        """
        if session_id is None:
            session_id = new_session_id()
        else:
            validate_custom_id(session_id)
            if self.exists(session_id):
                raise SessionExists(session_id)
        return self._create_file(make_header(session_id, str(self.workspace), now_iso()), [], name)

    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is in the store or its trash."""
        try:
            self._locate(session_id)
            return True
        except SessionNotFound:
            pass
        suffix = f"_{session_id}.jsonl"
        with contextlib.suppress(FileNotFoundError), os.scandir(self.trash_dir) as it:
            return any(i.name.endswith(suffix) for i in it)
        return False

    def _create_file(self, header: Entry, entries: list[Entry], name: str | None) -> SessionInfo:
        self._ensure_dirs()
        session_id = header["id"]
        if name is not None:
            entries = [
                *entries,
                {
                    "type": "session_info",
                    "id": new_entry_id({e["id"]: e for e in entries}),
                    "parentId": entries[-1]["id"] if entries else None,
                    "ts": header["createdAt"],
                    "name": name,
                },
            ]
        fname = file_name(header["createdAt"], session_id)
        write_new_file(self.sessions_dir / fname, b"".join(map(encode, [header, *entries])))
        self._names[session_id] = fname
        return self.info(session_id)

    def info(self, session_id: str) -> SessionInfo:
        """The list entry of one session."""
        path = self._locate(session_id)
        try:
            row = self._index.refresh_file(path.name, self._move_aside)
        except IndexUnavailable as exc:  # the cache is unusable: read the file itself
            log.warning("%s", exc)
            try:
                row = scan_file(str(self.sessions_dir), path.name, None)
            except FileNotFoundError:
                row = None
            except CorruptHeader as corrupt:
                self._move_aside(path, corrupt)
                row = None
        if row is None:
            raise SessionNotFound(session_id)
        return SessionInfo.from_row(row, self.sessions_dir)

    def load(self, session_id: str) -> Session:
        """A read-only view of the session as it is now."""
        session = self._open_session(session_id)
        self._warm(session_id, session)
        return session

    def checkpoint_view(self, session_id: str) -> CheckpointView:
        """The session's checkpoints and their prompts, without parsing its other entries."""
        return CheckpointView(self._open_session(session_id))

    def list(
        self,
        cursor: str | None = None,
        limit: int | None = 50,
        query: str | None = None,
        filters: Filters | None = None,
    ) -> tuple[list[SessionInfo], str | None]:
        """A page of sessions, newest first, and the cursor of the next page (None at the end)."""
        rows, more = self._fetch(self._index.query, cursor, limit, query, filters)
        infos = list(map(SessionInfo._make, rows))
        return infos, encode_cursor(infos[-1].sort_key) if more else None

    def list_json(
        self,
        cursor: str | None = None,
        limit: int | None = 50,
        query: str | None = None,
        filters: Filters | None = None,
    ) -> tuple[bytes, str | None]:
        """As ``list``, the sessions as UTF-8 JSON objects (``SessionInfo.to_json``) joined with
        commas: the index keeps every row's JSON, so a script listing ten thousand sessions
        does not encode them again."""
        if limit is None:  # no next cursor to make: sqlite joins them all
            joined, _ = self._fetch(
                lambda after, _, query, filters: [
                    self._index.joined_listings(after, query, filters)
                ],
                cursor,
                None,
                query,
                filters,
            )
            return (joined[0] if joined else b""), None
        rows, more = self._fetch(self._index.listings, cursor, limit, query, filters)
        return b",".join(row[0] for row in rows), encode_cursor(rows[-1][1:]) if more else None

    def _fetch(
        self,
        select: Callable[..., list[Any]],
        cursor: str | None,
        limit: int | None,
        query: str | None,
        filters: Filters | None,
    ) -> tuple[list[Any], bool]:
        """A page of index rows from ``select`` and whether more follow."""
        after = decode_cursor(cursor) if cursor else None
        if not self.sessions_dir.is_dir():
            return [], False
        self._index.refresh(self._move_aside)
        rows = select(after, None if limit is None else limit + 1, query, filters)
        more = limit is not None and len(rows) > limit
        return (rows[:limit] if more else rows), more

    def rescan(self) -> None:
        """Stat every session file now: another program changed one in place (a listing
        would otherwise see it only at the next full scan, ``index.RESCAN_NS``)."""
        if self.sessions_dir.is_dir():
            self._index.refresh(self._move_aside, full=True)

    def index_text(self) -> int:
        """Bring the full-text index up to what the files hold (reading only what they gained
        since it last looked); returns how many files were read."""
        if not self.sessions_dir.is_dir():
            return 0
        self._index.refresh(self._move_aside)
        return self._index.index_text()

    def most_recent(self) -> SessionInfo | None:
        """The most recently modified session, if any."""
        page, _ = self.list(limit=1)
        return page[0] if page else None

    def writer(self, session_id: str) -> SessionWriter:
        """The session's only writer; ``SessionBusy`` if anyone (even this process) holds it."""
        validate_session_id(session_id)
        self._locate(session_id)
        self._ensure_dirs()
        lock = SessionLock(self.locks_dir / f"{session_id}.lock", session_id)
        lock.acquire()
        try:
            writer = SessionWriter(self, session_id, lock)
        except CorruptHeader as exc:
            lock.release()
            self._move_aside(self._locate(session_id), exc)
            raise SessionNotFound(session_id) from None
        except BaseException:
            lock.release()
            raise
        self._writers[session_id] = writer
        return writer

    def _with_writer(self, session_id: str) -> tuple[SessionWriter, bool]:
        """This store's open writer for the session, or a temporary one (True: close it)."""
        own = self._writers.get(session_id)
        if own is not None and not own.closed:
            return own, False
        return self.writer(session_id), True

    def rename(self, session_id: str, name: str) -> SessionInfo:
        """Name a session (a ``session_info`` entry); uses this store's open writer if any."""
        writer, temporary = self._with_writer(session_id)
        try:
            writer.append({"type": "session_info", "name": name})
        finally:
            if temporary:
                writer.close()
        return self.info(session_id)

    def set_metadata(
        self, session_id: str, tags: list[str] | None, metadata: dict[str, str | None] | None
    ) -> SessionInfo:
        """Tag a session (the tags replace the old ones) and set metadata (merged by key; a
        None value removes the key), as one ``session_info`` entry."""
        entry: Entry = {"type": "session_info"}
        if tags is not None:
            entry["tags"] = sorted(set(tags))
        if metadata is not None:
            entry["metadata"] = metadata
        writer, temporary = self._with_writer(session_id)
        try:
            writer.append(entry)
        finally:
            if temporary:
                writer.close()
        return self.info(session_id)

    def reset(self, session_id: str) -> None:
        """Start a new branch from the root (a ``leaf`` entry to null); the old one stays."""
        self.move_leaf(session_id, None)

    def branch_tip(self, session_id: str, entry_id: str) -> str | None:
        """Where the leaf must go for ``entry_id`` to be on the active path: None when it is
        already; otherwise its newest descendant (the end of the latest branch through it),
        so the conversation continues from there and no branch is lost."""
        session = self._open_session(session_id)
        session.get(entry_id)
        if any(e["id"] == entry_id for e in session.path()):
            return None
        children: dict[str, list[str]] = {}
        for entry in session.entries.values():
            parent = entry.get("parentId")
            if isinstance(parent, str) and entry.get("type") != "leaf":
                children.setdefault(parent, []).append(entry["id"])
        tip = entry_id
        while children.get(tip):
            tip = children[tip][-1]  # file order: the newest child
        return tip

    def move_leaf(self, session_id: str, entry_id: str | None) -> None:
        """Continue the session after ``entry_id`` (a ``leaf`` entry; None: from the root)."""
        writer, temporary = self._with_writer(session_id)
        try:
            writer.set_leaf(entry_id)
        finally:
            if temporary:
                writer.close()

    def delete(self, session_id: str) -> None:
        """Move the session to the trash; closes this store's own writer of it first."""
        own = self._writers.get(session_id)
        if own is not None:
            own.close()
        writer = self.writer(session_id)
        try:
            path = writer._path
            layout.ensure_dir(self.trash_dir, below=self.root)
            os.rename(path, self.trash_dir / path.name)
            os.utime(self.trash_dir / path.name)  # the mtime in the trash is when it was deleted
            self._index.forget(path.name)
            self._names.pop(session_id, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.locks_dir / f"{session_id}.lock")
        finally:
            writer.close()

    def trashed(self) -> list[SessionInfo]:
        """Sessions in the trash, newest first (by their last entry)."""
        return [info for info, _ in self.trash()]

    def trash(self) -> list[tuple[SessionInfo, str]]:
        """Sessions in the trash with when each was deleted (the file's mtime there), most
        recently deleted first."""
        out: list[tuple[int, tuple[str, str], SessionInfo, str]] = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.trash_dir) as it:
            for item in it:
                if id_from_file_name(item.name) is None:
                    continue
                try:
                    row = scan_file(str(self.trash_dir), item.name, None)
                except (StoreError, OSError):  # a bad header, a FIFO, …: not restorable
                    continue
                info = SessionInfo.from_row(row, self.trash_dir)
                out.append((row.mtime_ns, info.sort_key, info, iso_time(row.mtime_ns)))
        out.sort(reverse=True)
        return [(info, deleted_at) for _, _, info, deleted_at in out]

    def restore(self, session_id: str) -> SessionInfo:
        """Bring a session back from the trash."""
        validate_session_id(session_id)
        for info, _ in self.trash():
            if info.session_id == session_id:
                self._ensure_dirs()
                target = self.sessions_dir / info.path.name
                if target.exists():
                    raise StoreError(f"session {session_id} already exists")
                os.rename(info.path, target)
                return self.info(session_id)
        raise SessionNotFound(session_id)

    def purge(self) -> int:
        """Empty the trash; returns how many sessions were removed for good."""
        count = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(self.trash_dir) as it:
            for item in it:
                if item.is_file():
                    os.unlink(item.path)
                    count += id_from_file_name(item.name) is not None
        return count

    def fork(self, session_id: str, entry_id: str | None = None) -> SessionInfo:
        """A new session holding copies of the path root→``entry_id`` (default: the leaf)."""
        source = self._open_session(session_id)
        at = source.leaf_id if entry_id is None else entry_id
        entries = source.path(at) if at is not None else []
        header = make_header(new_session_id(), str(self.workspace), now_iso(), session_id, at)
        if isinstance(source.header.get("cwd"), str):
            header["cwd"] = source.header["cwd"]
        return self._create_file(header, [dict(e) for e in entries], None)

    def adopt(self, header: Entry, entries: list[Entry]) -> SessionInfo:
        """Write a whole session as given, ids, parents and times kept (an import).

        The id must be free here, live or in the trash (else ``SessionExists``); entries must
        have unique string ids and name only earlier entries as parents (readers rely on it),
        else ``StoreError``. The file appears complete at once, under the session's lock, and
        is indexed.
        """
        session_id = validate_session_id(header.get("id"))
        if header.get("type") != "session" or not isinstance(header.get("createdAt"), str):
            raise StoreError(f"session {session_id}: not a session header")
        seen: set[str] = set()
        ordered: list[Entry] = []
        for entry in entries:
            entry_id, parent = entry.get("id"), entry.get("parentId")
            kind = entry.get("type")
            if not isinstance(entry_id, str) or entry_id in seen or not isinstance(kind, str):
                raise StoreError(f"session {session_id}: entry ids must be unique strings")
            if kind == "session" or (parent is not None and parent not in seen):
                raise StoreError(f"session {session_id}: entry {entry_id} has no earlier parent")
            seen.add(entry_id)
            head = {key: entry.get(key) for key in ENTRY_KEYS}
            ordered.append({**head, **{k: v for k, v in entry.items() if k not in ENTRY_KEYS}})
        self._ensure_dirs()
        lock = SessionLock(self.locks_dir / f"{session_id}.lock", session_id)
        lock.acquire()
        try:
            for folder in (self.sessions_dir, self.trash_dir):
                with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
                    if any(id_from_file_name(i.name) == session_id for i in it):
                        raise SessionExists(session_id)
            return self._create_file(dict(header), ordered, None)
        finally:
            lock.release()

    def fingerprint(self, exclude: Collection[str] = ()) -> str:
        """Changes whenever a session file is created, appended to, renamed or removed.

        Sessions in ``exclude`` (the ones this process is writing) only count by name, so a
        watcher is not woken by its own appends.
        """
        digest = hashlib.blake2b(digest_size=16)
        missing = (FileNotFoundError, NotADirectoryError)  # no store yet, or it cannot be one
        with contextlib.suppress(*missing), os.scandir(self.sessions_dir) as it:
            for item in sorted(it, key=lambda i: i.name):
                if item.name.endswith(".jsonl") and id_from_file_name(item.name) in exclude:
                    digest.update(f"{item.name}\n".encode())
                elif item.name.endswith(".jsonl"):
                    with contextlib.suppress(OSError):  # gone, or a symlink loop: no state
                        st = item.stat()
                        digest.update(f"{item.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return digest.hexdigest()


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    """Keep ``value`` as the most recent of at most ``KEEP_OPEN`` sessions' cached state."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > KEEP_OPEN:
        del cache[next(iter(cache))]


def _page(infos: list[SessionInfo], limit: int | None) -> tuple[list[SessionInfo], str | None]:
    if limit is None or len(infos) <= limit:
        return infos, None
    infos = infos[:limit]
    return infos, encode_cursor(infos[-1].sort_key)


def list_all_workspaces(
    root: Path | None = None,
    cursor: str | None = None,
    limit: int | None = 50,
    query: str | None = None,
    filters: Filters | None = None,
) -> tuple[list[SessionInfo], str | None]:
    """Sessions of every workspace under ``root``, newest first, paged like ``list``."""
    base = layout.workspaces_dir(Path(root) if root is not None else layout.store_root())
    after = decode_cursor(cursor) if cursor else None
    pages: list[list[SessionInfo]] = []
    with contextlib.suppress(FileNotFoundError), os.scandir(base) as it:
        for item in it:
            if not item.is_dir():
                continue
            store = SessionStore.at(Path(item.path), root=base.parent)
            try:
                store._index.refresh(store._move_aside)
                rows = store._index.query(
                    after, None if limit is None else limit + 1, query, filters
                )
                pages.append(list(map(SessionInfo._make, rows)))
            finally:
                store.close()
    merged = list(heapq.merge(*pages, key=lambda info: info.sort_key, reverse=True))
    return _page(merged, limit)
