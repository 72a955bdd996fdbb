"""Exporting one session: a readable transcript, the raw JSONL, or a portable bundle."""

from __future__ import annotations

from pathlib import Path

from agent_ls.carry import Format, html, markdown
from agent_ls.carry.bundle import session_bytes, write_bundle
from agent_ls.carry.document import document
from agent_ls.carry.errors import CarryError
from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.files.atomic import write_atomic
from agent_ls.sessions.format import encode
from agent_ls.sessions.store import SessionStore

SUFFIXES = {"markdown": ".md", "html": ".html", "jsonl": ".jsonl", "bundle": ".tar"}


def export_text(
    store: SessionStore, blobs: BlobStore, session_id: str, fmt: Format, active_only: bool = False
) -> str:
    """A text format of the session: the readable ones show its active path; ``jsonl`` is the
    whole file (every branch), or its header and active path with ``active_only``."""
    if fmt == "bundle":
        raise CarryError("a bundle is binary: give a file to write it to (-o FILE, or path)")
    if fmt == "jsonl":
        if active_only:
            session = store.load(session_id)
            lines = [encode(session.header), *map(encode, session.path())]
            return b"".join(lines).decode("utf-8")
        return session_bytes(store, session_id)[0].decode("utf-8", "backslashreplace")
    session = store.load(session_id)
    doc = document(store.info(session_id), session.path(), blobs)
    return markdown.render(doc) if fmt == "markdown" else html.render(doc)


def export_file(
    store: SessionStore,
    blobs: BlobStore,
    session_id: str,
    fmt: Format,
    out: Path,
    active_only: bool = False,
) -> int:
    """Write the export to ``out`` (whole or not at all, mode 0600); its size in bytes."""
    if not out.parent.is_dir():
        raise CarryError(f"{out.parent} is not a folder; give a file in an existing folder")
    if fmt == "bundle":
        return write_bundle(store, blobs, session_id, out)
    data = export_text(store, blobs, session_id, fmt, active_only).encode("utf-8")
    write_atomic(out, data, mode=0o600)
    return len(data)
