"""Content-addressed snapshots: each distinct content is stored once per workspace."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent_ls.checkpoints.errors import BlobCorrupt, BlobMissing

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"


def sha256_hex(data: bytes) -> str:
    """The name of a content, shared by the store, the recorder and conflict checks."""
    return hashlib.sha256(data).hexdigest()


def is_sha(value: object) -> bool:
    """True for a well-formed blob name; entries come from files and are not trusted."""
    return isinstance(value, str) and _SHA_RE.fullmatch(value) is not None


class BlobStore:
    """zlib-compressed blobs at `<dir>/ab/cdef…`, named by the sha256 of the raw content.

    Writes are atomic (temp file + rename), so a reader never sees half a blob. `put` does not
    fsync; `sync` fsyncs every blob written since the last call, so a turn pays for durability
    once, just before its checkpoint entry points at the blobs.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._dir = os.fspath(self.directory)
        self._unsynced: set[Path] = set()

    def path_of(self, sha: str) -> Path:
        """The file of a blob; refuses malformed names so no entry can point outside the store."""
        return Path(self._file(sha))

    def _file(self, sha: str) -> str:
        """`path_of` as a string: blob lookups are hot in a large restore, pathlib is not cheap."""
        if not is_sha(sha):
            raise BlobMissing(f"not a blob name: {sha!r}")
        return os.path.join(self._dir, sha[:2], sha[2:])

    def put(self, data: bytes) -> str:
        """Store content once and return its sha256; an intact existing blob is only touched.

        Touching refreshes the mtime that garbage collection's grace period reads, so a blob a
        running turn is about to reference is not collected by another process meanwhile. An
        existing blob that fails verification (damaged on disk) is written again, so the damage
        does not outlive the next save of the same content.
        """
        sha = sha256_hex(data)
        if self._intact(sha):
            with contextlib.suppress(FileNotFoundError):  # collected meanwhile: write it anew
                os.utime(self._file(sha))
                return sha
        target = self.path_of(sha)
        _make_dir(self.directory)
        _make_dir(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(zlib.compress(data))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._unsynced.add(target)
        return sha

    def _intact(self, sha: str) -> bool:
        """Whether the blob exists and its content matches its name."""
        try:
            self.get(sha)
        except (BlobMissing, BlobCorrupt):
            return False
        return True

    def get(self, sha: str) -> bytes:
        """The raw content, verified against its name."""
        try:
            with open(self._file(sha), "rb") as handle:
                packed = handle.read()
        except FileNotFoundError:
            raise BlobMissing(f"snapshot {sha} is missing") from None
        try:
            data = zlib.decompress(packed)
        except zlib.error as exc:
            raise BlobCorrupt(f"snapshot {sha} is damaged: {exc}") from None
        if sha256_hex(data) != sha:
            raise BlobCorrupt(f"snapshot {sha} does not match its hash")
        return data

    def has(self, sha: str) -> bool:
        """Whether the blob exists (cheap: one stat, no verification)."""
        return is_sha(sha) and os.path.isfile(self._file(sha))

    def size(self, sha: str) -> int:
        """Bytes the blob takes on disk (compressed)."""
        try:
            return os.stat(self._file(sha)).st_size
        except FileNotFoundError:
            raise BlobMissing(f"snapshot {sha} is missing") from None

    def delete(self, sha: str) -> int:
        """Remove a blob; returns the bytes freed (0 if it was already gone)."""
        path = self.path_of(sha)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        self._unsynced.discard(path)
        with contextlib.suppress(OSError):
            path.parent.rmdir()
        return size

    def __iter__(self) -> Iterator[str]:
        """Every blob name present, in no particular order."""
        if not self.directory.is_dir():
            return
        for sub in os.scandir(self.directory):
            if len(sub.name) != 2 or not sub.is_dir(follow_symlinks=False):
                continue
            for item in os.scandir(sub.path):
                if is_sha(sub.name + item.name):
                    yield sub.name + item.name

    def total_size(self) -> int:
        """Bytes on disk of every blob, the figure the retention budget is checked against."""
        total = 0
        for sha in self:
            with contextlib.suppress(BlobMissing):
                total += self.size(sha)
        return total

    def sync(self) -> None:
        """fsync the blobs written since the last call, then their directories.

        The fsyncs run in parallel: the file system commits them together, which on a real
        disk is several times faster than one after another.
        """
        pending = list(self._unsynced)  # one atomic copy: turns may put from worker threads
        files = [p for p in pending if p.exists()]
        if files:
            _fsync_all(files, os.O_RDONLY)
            dirs = {p.parent for p in files} | {self.directory}
            _fsync_all(sorted(dirs), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        self._unsynced.difference_update(pending)

    def remove_stale_temp_files(self, older_than: float) -> int:
        """Delete temp files a crashed writer left behind (mtime before `older_than`)."""
        freed = 0
        if not self.directory.is_dir():
            return 0
        for sub in os.scandir(self.directory):
            if not sub.is_dir(follow_symlinks=False):
                continue
            for item in os.scandir(sub.path):
                if item.name.startswith(_TMP_PREFIX):
                    with contextlib.suppress(FileNotFoundError):
                        stat = item.stat(follow_symlinks=False)
                        if stat.st_mtime < older_than:
                            os.unlink(item.path)
                            freed += stat.st_size
        return freed


def _make_dir(path: Path) -> None:
    """Create a private directory (0700) if missing."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return
    os.chmod(path, 0o700)


def _fsync_all(paths: list[Path], flags: int) -> None:
    def one(path: Path) -> None:
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    if len(paths) == 1:
        one(paths[0])
        return
    with ThreadPoolExecutor(max_workers=min(16, len(paths))) as pool:
        list(pool.map(one, paths))
