"""The JSONL format: ids, file names, lines, and tolerant parsing of what is on disk."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Container
from datetime import UTC, datetime
from typing import Any

from agent_ls.files.atomic import write_atomic
from agent_ls.lazy_logging import get_logger

from .errors import CorruptHeader, InvalidSessionId

log = get_logger(__name__)

Entry = dict[str, Any]

VERSION = 1
SESSION_ID_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
CUSTOM_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
FILE_RE = re.compile(r"([0-9TZ-]+)_([A-Za-z0-9_-][A-Za-z0-9._-]{0,127})\.jsonl")
FIRST_MESSAGE_CHARS = 200
# Keys every entry starts with, in this order, so that the index can scan lines as bytes.
ENTRY_KEYS = ("type", "id", "parentId", "ts")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ulid_lock = threading.Lock()
_ulid_last = (0, 0)


def validate_session_id(session_id: object) -> str:
    """Return the id if it is safe to put in a file name; raise ``InvalidSessionId`` otherwise."""
    if not isinstance(session_id, str) or not SESSION_ID_RE.fullmatch(session_id):
        raise InvalidSessionId(session_id)
    return session_id


def validate_custom_id(session_id: str) -> str:
    """A caller's own id: a letter or digit, then up to 127 letters, digits, ``.``, ``_``, ``-``."""
    if not CUSTOM_ID_RE.fullmatch(session_id):
        raise InvalidSessionId(session_id, custom=True)
    return session_id


def iso_time(ns: int) -> str:
    """A file time (ns since the epoch) in the entries' ``ts`` format."""
    stamp = datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _base32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_session_id() -> str:
    """A 26-character ULID: 48-bit milliseconds + 80 random bits, monotonic within a process."""
    global _ulid_last
    with _ulid_lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_rand = _ulid_last
        if ms <= last_ms:
            ms, rand = last_ms, (last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10))  # what secrets.randbits(80) reads
        _ulid_last = (ms, rand)
    return _base32(ms, 10) + _base32(rand, 16)


def random_hex(size: int) -> str:
    """``secrets.token_hex(size)`` without importing ``secrets`` (the CLI starts faster)."""
    return os.urandom(size).hex()


def new_entry_id(taken: Container[str]) -> str:
    """Eight hex digits not yet used in the session."""
    while True:
        entry_id = random_hex(4)
        if entry_id not in taken:
            return entry_id


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds; fixed width, so strings sort like times."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def file_name(created_at: str, session_id: str) -> str:
    """``<UTC time>_<id>.jsonl``; the time has no colons so the name is portable."""
    stamp = created_at.replace(":", "-").replace(".", "-")
    return f"{stamp}_{session_id}.jsonl"


def id_from_file_name(name: str) -> str | None:
    """The session id a file name carries, or None for files that are not sessions."""
    match = FILE_RE.fullmatch(name)
    return match.group(2) if match else None


def encode(obj: Entry) -> bytes:
    """One compact JSON line with its newline, ready for a single ``os.write``.

    A ``str`` may hold lone surrogates (``os.listdir`` decodes a file name that is not UTF-8
    with ``surrogateescape``), which UTF-8 cannot encode. Inside a JSON string ``\\udcff`` is a
    valid escape that reads back as the same character, so those are written escaped: the
    line stays valid and the text round-trips exactly.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    return text.encode("utf-8", "backslashreplace")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _show_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def readable(text: str) -> str:
    """``text`` made encodable as UTF-8 for display and the index: a byte that was not UTF-8
    (a surrogate-escaped file name) shows as ``\\xNN``, any other lone surrogate as ``\\uXXXX``."""
    return _SURROGATE.sub(_show_surrogate, text)


def make_header(
    session_id: str,
    cwd: str,
    created_at: str,
    parent_session: str | None = None,
    parent_entry: str | None = None,
) -> Entry:
    """The first line of every session file."""
    header: Entry = {
        "type": "session",
        "version": VERSION,
        "id": session_id,
        "cwd": cwd,
        "createdAt": created_at,
    }
    if parent_session is not None:
        header["parentSession"] = parent_session
        header["parentEntry"] = parent_entry
    return header


def parse_header(line: bytes, expected_id: str) -> Entry:
    """Parse and check line 1; ``CorruptHeader`` if it is not this session's header."""
    try:
        header = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise CorruptHeader(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("type") != "session":
        raise CorruptHeader("first line is not a session header")
    if header.get("id") != expected_id:
        raise CorruptHeader(f"header id {header.get('id')!r} does not match the file name")
    if not isinstance(header.get("createdAt"), str):
        raise CorruptHeader("header has no createdAt")
    return header


_CHUNK = 64 * 1024


def read_header(fd: int, session_id: str) -> tuple[Entry, int]:
    """Line 1 of an open session file, checked, and the offset just past it.

    A file holding only a complete header without its newline still has a header (the
    writer adds the newline before it appends).
    """
    parts: list[bytes] = []
    pos = 0
    while True:
        block = os.pread(fd, _CHUNK, pos)
        if not block:
            if not parts:
                raise CorruptHeader("no complete header line")
            return parse_header(b"".join(parts), expected_id=session_id), pos
        cut = block.find(b"\n")
        if cut >= 0:
            parts.append(block[:cut])
            return parse_header(b"".join(parts), expected_id=session_id), pos + cut + 1
        parts.append(block)
        pos += len(block)


def is_entry_line(line: bytes) -> bool:
    """Whether ``line`` is one whole entry (a JSON object with a string ``id``)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and isinstance(obj.get("id"), str)


def complete_end(fd: int, start: int, size: int) -> int:
    """The end of the last complete line at or after ``start`` in an open file.

    A last line missing only its newline counts as complete when it parses as an entry; only
    an unparsable tail is a torn write.
    """
    end = size
    last = start
    while end > start:
        begin = max(start, end - _CHUNK)
        block = os.pread(fd, end - begin, begin)
        cut = block.rfind(b"\n")
        if cut >= 0:
            last = begin + cut + 1
            break
        end = begin
    if last < size and is_entry_line(os.pread(fd, size - last, last)):
        return size
    return last


_BATCH_BYTES = 1 << 18
# Values repeated on every line: one shared string each instead of one per entry.
_COMMON = "message user assistant tool_result session_info leaf text tool_use thinking checkpoint"
_SHARED = {v: v for v in _COMMON.split()}


def _entries_of(values: list[Any], origin: str, out: list[Entry]) -> None:
    """Keep the values that are entries, with common strings shared (saves memory)."""
    shared = _SHARED.get
    append = out.append
    for obj in values:
        if type(obj) is not dict or type(obj.get("id")) is not str:
            log.warning("%s: skipping a line that is not an entry: %.80r", origin, obj)
            continue
        kind = obj.get("type")
        obj["type"] = shared(kind, kind)  # type: ignore[arg-type]
        role = obj.get("role")
        if role is not None:
            obj["role"] = shared(role, role)
            content = obj.get("content")
            if type(content) is list:
                obj["content"] = content = content[:]  # exact size: the decoder over-allocates
                for block in content:
                    if type(block) is dict:
                        kind = block.get("type")
                        if kind is not None:
                            block["type"] = shared(kind, kind)
        append(obj)


def _parse_each(region: bytes, origin: str, out: list[Entry]) -> None:
    for line in region.split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
            log.warning("%s: skipping a line that is not JSON: %.80r", origin, line)
            continue
        _entries_of([obj], origin, out)


def parse_lines(data: bytes, origin: str) -> list[Entry]:
    """Entries of a region of complete lines; lines that are not entries are skipped, logged.

    About 256 KB of lines at a time is parsed as one JSON array (newlines turned into
    commas): several times faster than one ``loads`` per line, no object per line, and the
    decoder shares one copy of each key. A batch with a bad or blank line is redone line by
    line.
    """
    entries: list[Entry] = []
    pos = 0
    while pos < len(data):
        cut = data.find(b"\n", pos + _BATCH_BYTES)
        end = len(data) if cut < 0 else cut + 1
        region = data[pos:end]
        pos = end
        body = region[:-1] if region.endswith(b"\n") else region
        try:
            values = json.loads(b"[" + body.replace(b"\n", b",") + b"]")
        except (ValueError, RecursionError):
            _parse_each(region, origin, entries)
            continue
        if len(values) == body.count(b"\n") + 1:
            _entries_of(values, origin, entries)
        else:  # a line held several comma-separated values: not an entry line
            _parse_each(region, origin, entries)
    return entries


def message_text(entry: Entry) -> str:
    """The text of a message entry's content (a string or Anthropic content blocks)."""
    content = entry.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [
        block["text"]
        for block in content
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    ]
    return "\n".join(parts)


def first_message_preview(entry: Entry) -> str:
    """A one-line preview of a user message, about ``FIRST_MESSAGE_CHARS`` long."""
    text = readable(" ".join(message_text(entry).split()))
    if len(text) > FIRST_MESSAGE_CHARS:
        text = text[: FIRST_MESSAGE_CHARS - 1] + "…"
    return text


def write_new_file(path: os.PathLike[str] | str, data: bytes) -> None:
    """Create a complete file atomically (temp name, fsync, rename), mode 0600."""
    write_atomic(path, data, mode=0o600)
