"""Portable bundles: one session and the checkpoint snapshots it names, in a plain ``.tar``
(an import also takes the same members in a ``.zip``, for a bundle someone packed again).

```
manifest.json    {"format": "agent-ls-bundle", "version": 1, "sessionId", "workspace",
                  "createdAt", "exportedAt", "blobs": [sha…], "missingBlobs": [sha…]}
session.jsonl    the session file as it is (complete lines)
blobs/<sha256>   each snapshot's raw content, named by its hash
```

Reading one trusts nothing: only those names are accepted (no absolute or ``..`` path, no
link, device or other member type), members and the whole are size-limited (by what they hold
uncompressed, and no more than that is ever read or inflated), nothing is
extracted by name (the session goes through ``SessionStore.adopt``, snapshots through
``BlobStore.put`` under their verified hash), and a snapshot whose content does not hash to its
name rejects the bundle before the session is written.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agent_ls import __version__
from agent_ls.carry.errors import BundleRejected
from agent_ls.carry.report import ImportReport, store_headers
from agent_ls.checkpoints.blobs import BlobStore, is_sha
from agent_ls.checkpoints.entries import file_records, is_checkpoint
from agent_ls.checkpoints.errors import BlobCorrupt, BlobMissing
from agent_ls.sessions.errors import SessionExists, StoreError
from agent_ls.sessions.files import open_regular
from agent_ls.sessions.format import (
    Entry,
    new_session_id,
    now_iso,
    parse_lines,
    validate_session_id,
)
from agent_ls.sessions.store import SessionInfo, SessionStore

FORMAT = "agent-ls-bundle"
VERSION = 1
MANIFEST = "manifest.json"
SESSION = "session.jsonl"
BLOB_NAME = re.compile(r"blobs/([0-9a-f]{64})")
BUNDLE_OF = "bundleOf"  # header field: the id a bundled session had, when it got a new one

MAX_MEMBERS = 100_000
MAX_MANIFEST_BYTES = 16 << 20
MAX_SESSION_BYTES = 1 << 30
MAX_BLOB_BYTES = 1 << 30
MAX_TOTAL_BYTES = 16 << 30


def checkpoint_blobs(entries: list[Entry]) -> list[str]:
    """Every snapshot the session's checkpoints name (all branches), in first-use order."""
    named: dict[str, None] = {}
    for entry in entries:
        if is_checkpoint(entry):
            for record in file_records(entry):
                for side in (record.get("before"), record.get("after")):
                    if is_sha(side):
                        named[side] = None
    return list(named)


def session_bytes(store: SessionStore, session_id: str) -> tuple[bytes, list[Entry]]:
    """The session file's complete lines, and its entries."""
    session = store.load(session_id)
    fd = open_regular(session.file)
    try:
        data = os.pread(fd, session.end_offset, 0)
    finally:
        os.close(fd)
    return data, list(session.entries.values())


def write_bundle(store: SessionStore, blobs: BlobStore, session_id: str, out: Path) -> int:
    """Write the bundle of ``session_id`` to ``out`` (whole or not at all); its size in bytes."""
    data, entries = session_bytes(store, session_id)
    header = json.loads(data.split(b"\n", 1)[0])
    present, missing = [], []
    for sha in checkpoint_blobs(entries):
        (present if blobs.has(sha) else missing).append(sha)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "sessionId": session_id,
        "workspace": header.get("cwd"),
        "createdAt": header.get("createdAt"),
        "exportedAt": now_iso(),
        "agentLs": __version__,
        "blobs": present,
        "missingBlobs": missing,
    }
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".tar", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            _add(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            _add(tar, SESSION, data)
            for sha in list(present):
                try:
                    content = blobs.get(sha)
                except (BlobMissing, BlobCorrupt):
                    present.remove(sha)
                    missing.append(sha)
                    continue
                _add(tar, f"blobs/{sha}", content)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return out.stat().st_size


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mtime = int(time.time())
    member.mode = 0o600
    tar.addfile(member, io.BytesIO(data))


@dataclass
class _Member:
    """One member of a tar or zip archive, as the checks see it."""

    name: str
    size: int  # uncompressed
    regular: bool  # a plain file: not a link, device, sparse file or directory
    directory: bool
    opener: Callable[[], IO[bytes] | None]


def _tar_members(tar: tarfile.TarFile) -> Iterator[_Member]:
    for info in tar:
        yield _Member(
            info.name,
            info.size,
            info.isreg() and not info.issparse(),
            info.isdir(),
            functools.partial(tar.extractfile, info),
        )


def _zip_members(archive: zipfile.ZipFile) -> Iterator[_Member]:
    for info in archive.infolist():
        mode = info.external_attr >> 16  # the unix mode, when a unix tool made the zip
        odd = mode != 0 and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
        yield _Member(
            info.filename,
            info.file_size,
            not info.is_dir() and not odd,
            info.is_dir() and not odd,
            functools.partial(archive.open, info),
        )


@dataclass
class _Members:
    manifest: _Member
    session: _Member
    blobs: dict[str, _Member]


def _check_members(members: Iterator[_Member]) -> _Members:
    """Every member's name, type and size, before any content is read."""
    found: dict[str, _Member] = {}
    blobs: dict[str, _Member] = {}
    total = 0
    for count, member in enumerate(members, 1):
        if count > MAX_MEMBERS:
            raise BundleRejected(f"the bundle has over {MAX_MEMBERS} members; it is not one")
        name = member.name
        if member.directory and name.rstrip("/") == "blobs":
            continue
        if not member.regular:
            raise BundleRejected(f"bundle member {name!r} is not a regular file; refused")
        limit = MAX_BLOB_BYTES
        match = BLOB_NAME.fullmatch(name)
        if name == MANIFEST:
            limit = MAX_MANIFEST_BYTES
        elif name == SESSION:
            limit = MAX_SESSION_BYTES
        elif match is None:
            raise BundleRejected(f"bundle member {name!r} is not part of a bundle; refused")
        if name in found or (match and match.group(1) in blobs):
            raise BundleRejected(f"bundle member {name!r} appears twice; refused")
        if member.size > limit:
            raise BundleRejected(f"bundle member {name!r} is over {limit >> 20} MiB; refused")
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise BundleRejected(f"the bundle holds over {MAX_TOTAL_BYTES >> 30} GiB; refused")
        if match:
            blobs[match.group(1)] = member
        else:
            found[name] = member
    if MANIFEST not in found or SESSION not in found:
        raise BundleRejected(f"not an agent-ls bundle: it needs {MANIFEST} and {SESSION}")
    return _Members(found[MANIFEST], found[SESSION], blobs)


def _read(member: _Member) -> bytes:
    """The member's content: never more than the size it declared (a zip member that inflates
    past it is cut there and refused)."""
    handle = member.opener()
    if handle is None:
        raise BundleRejected(f"bundle member {member.name!r} cannot be read")
    with handle:
        data = handle.read(member.size + 1)
    if len(data) != member.size:
        raise BundleRejected(f"bundle member {member.name!r} is cut short")
    return data


def import_bundle(store: SessionStore, blobs: BlobStore, path: Path) -> ImportReport:
    """Import the session of a bundle into ``store``: its id kept unless a different session
    has it here (then a new id, said in the report); a bundle imported before is skipped."""
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise BundleRejected(
            f"{path} does not exist; give the path of a .tar (or .zip) bundle"
        ) from None
    except StoreError as exc:
        raise BundleRejected(str(exc)) from None
    with os.fdopen(fd, "rb") as handle:
        if zipfile.is_zipfile(handle):
            handle.seek(0)
            try:
                with zipfile.ZipFile(handle) as archive:
                    return _import(store, blobs, _zip_members(archive))
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise BundleRejected(f"{path} is not a readable .zip bundle ({exc})") from None
            except RuntimeError as exc:  # an encrypted member
                raise BundleRejected(f"{path} cannot be imported: {exc}") from None
        handle.seek(0)
        try:
            with tarfile.open(fileobj=handle, mode="r:") as tar:
                return _import(store, blobs, _tar_members(tar))
        except (tarfile.TarError, EOFError) as exc:
            raise BundleRejected(f"{path} is not a readable .tar bundle ({exc})") from None


def _import(store: SessionStore, blobs: BlobStore, archive: Iterator[_Member]) -> ImportReport:
    members = _check_members(archive)
    try:
        manifest = json.loads(_read(members.manifest))
    except ValueError:
        raise BundleRejected("the bundle's manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleRejected("not an agent-ls bundle: the manifest does not say so")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise BundleRejected("the bundle is from a newer agent-ls; upgrade to import it")
    header, entries, dropped = _session(_read(members.session))
    report = ImportReport()
    if dropped:
        report.problems.append(f"skipped {dropped} line(s) of the session that are not entries")
    original = header["id"]
    if _already_here(store, header):
        report.skipped += 1
        return report
    _rebase(header, entries, store.workspace)
    needed = checkpoint_blobs(entries)
    missing = 0
    for sha in needed:
        member = members.blobs.get(sha)
        if member is None:
            missing += not blobs.has(sha)
            continue
        content = _read(member)
        if hashlib.sha256(content).hexdigest() != sha:
            raise BundleRejected(f"snapshot {sha} in the bundle does not match its hash; refused")
        blobs.put(content)
    blobs.sync()
    if missing:
        report.problems.append(
            f"{missing} checkpoint snapshot(s) are not in the bundle; those files cannot be "
            "restored from this copy"
        )
    try:
        info = _adopt(store, header, entries)
    except SessionExists:
        header["id"] = new_session_id()
        header[BUNDLE_OF] = original
        info = _adopt(store, header, entries)
        report.problems.append(
            f"a different session {original} exists here; imported as {info.session_id}"
        )
    report.imported.append(info)
    return report


def _adopt(store: SessionStore, header: Entry, entries: list[Entry]) -> SessionInfo:
    """``store.adopt``; entries that are not a tree in file order reject the bundle."""
    try:
        return store.adopt(header, entries)
    except SessionExists:
        raise
    except StoreError as exc:
        raise BundleRejected(f"the bundled session cannot be imported: {exc}") from None


def _session(data: bytes) -> tuple[Entry, list[Entry], int]:
    """The header and entries of the bundled session file; how many lines were not entries."""
    first, _, rest = data.partition(b"\n")
    try:
        header = json.loads(first)
    except ValueError:
        raise BundleRejected("the bundled session has no readable header") from None
    if not isinstance(header, dict) or header.get("type") != "session":
        raise BundleRejected("the bundled session has no readable header")
    try:
        validate_session_id(header.get("id"))
    except StoreError:
        raise BundleRejected(f"the bundled session id {header.get('id')!r} is not valid") from None
    if not isinstance(header.get("createdAt"), str):
        raise BundleRejected("the bundled session's header has no createdAt")
    entries = parse_lines(rest, SESSION)
    lines = sum(1 for line in rest.split(b"\n") if line.strip())
    return header, entries, lines - len(entries)


def _already_here(store: SessionStore, header: Entry) -> bool:
    """The same session is in this store already, live or in the trash: the one the bundle
    was made from, or an import of it (same creation time, and its id or the id it had)."""
    for here in store_headers(store):
        if here.get("createdAt") == header["createdAt"] and header["id"] in (
            here.get("id"),
            here.get(BUNDLE_OF),
        ):
            return True
    return False


def _rebase(header: Entry, entries: list[Entry], workspace: Path) -> None:
    """Paths under the exporting workspace now name the same file under this one, so the
    checkpoints restore here (other paths stay: a restore refuses paths outside the roots)."""
    source = header.get("cwd")
    header["cwd"] = str(workspace)
    if not isinstance(source, str) or not source or source == str(workspace):
        return
    prefix = source.rstrip("/") + "/"
    for entry in entries:
        if is_checkpoint(entry):
            for record in file_records(entry):
                path = record["path"]
                if path == source or path.startswith(prefix):
                    record["path"] = str(workspace) + path[len(source.rstrip("/")) :]
