"""What an import did: the sessions written, how many were already here, what was skipped."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from agent_ls.sessions.errors import StoreError
from agent_ls.sessions.files import open_regular
from agent_ls.sessions.format import Entry, id_from_file_name, read_header
from agent_ls.sessions.store import SessionInfo, SessionStore

IMPORTED_FROM = "importedFrom"  # header field: {"agent", "id"} of the session's source


@dataclass
class ImportReport:
    """``imported`` in order; ``skipped`` counts sessions already in the store; ``problems``
    are sentences (a renamed id, torn lines, a file that could not be read)."""

    imported: list[SessionInfo] = field(default_factory=list)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def store_headers(store: SessionStore) -> list[Entry]:
    """The header of every session file in the store, live or in the trash (unreadable ones
    are left out: the store sets them aside when it reads them)."""
    headers: list[Entry] = []
    for folder in (store.sessions_dir, store.trash_dir):
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            session_id = id_from_file_name(name)
            if session_id is None:
                continue
            try:
                fd = open_regular(folder / name)
            except (StoreError, OSError):
                continue
            try:
                headers.append(read_header(fd, session_id)[0])
            except (StoreError, OSError):
                continue
            finally:
                os.close(fd)
    return headers


def imported_sources(store: SessionStore) -> set[tuple[str, str]]:
    """``(agent, source id)`` of every session imported into this store, live or in the trash:
    importing the same source again is skipped, even after the copy was deleted."""
    found: set[tuple[str, str]] = set()
    for header in store_headers(store):
        origin = header.get(IMPORTED_FROM)
        if isinstance(origin, dict):
            found.add((str(origin.get("agent")), str(origin.get("id"))))
    return found
