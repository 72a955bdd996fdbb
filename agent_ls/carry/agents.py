"""Importing other agents' sessions: find their files, convert, write each once.

Without ``all_folders`` only the sessions of the store's workspace are imported (found by the
folder name the agent derives from it; Codex files are read and kept when their ``cwd`` is the
workspace); with it, every session the agent has goes to the store of its own ``cwd``. A file
or project folder named explicitly is imported into this store whatever its ``cwd``. Sources are
only read; each imported session's header records ``importedFrom`` so a second run skips it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from agent_ls.carry import SOURCES
from agent_ls.carry.converted import Converted, build
from agent_ls.carry.errors import CarryError
from agent_ls.carry.report import IMPORTED_FROM, ImportReport, imported_sources
from agent_ls.carry.sources import claude_code, codex, pi
from agent_ls.sessions.errors import SessionExists, StoreError
from agent_ls.sessions.format import SESSION_ID_RE, make_header, new_session_id, now_iso
from agent_ls.sessions.store import SessionStore

AGENTS: dict[str, ModuleType] = dict(zip(SOURCES, (claude_code, pi, codex), strict=True))
_PREFIX = {"claude-code": "claude", "pi": "pi", "codex": "codex"}
_NAMES = {"claude-code": "Claude Code", "pi": "pi", "codex": "Codex"}


def import_agent(
    store: SessionStore, agent: str, path: Path | None = None, all_folders: bool = False
) -> ImportReport:
    """Import ``agent``'s sessions (from ``path``, default its own folder) into ``store``."""
    module = AGENTS.get(agent)
    if module is None:
        raise CarryError(f"unknown agent {agent!r}; use one of {', '.join(AGENTS)}")
    report = ImportReport()
    files, explicit = _files(agent, module, path, all_folders, store.workspace, report)
    others: dict[Path, SessionStore] = {}
    taken: dict[Path, set[tuple[str, str]]] = {}
    elsewhere = 0
    try:
        for file in files:
            try:
                converted: Converted = module.parse(file)
            except (OSError, ValueError, StoreError) as exc:
                report.problems.append(f"{file}: not imported ({exc})")
                continue
            target = _target(store, converted, explicit, all_folders, others)
            if target is None:
                elsewhere += 1
                continue
            report.problems.extend(converted.problems())
            seen = taken.get(target.workspace)
            if seen is None:
                seen = taken[target.workspace] = imported_sources(target)
            write_converted(target, converted, report, seen)
    finally:
        for other in others.values():
            other.close()
    if elsewhere:
        report.problems.append(
            f"left out {elsewhere} session(s) of other folders (--all imports them too)"
        )
    return report


def _files(
    agent: str,
    module: ModuleType,
    path: Path | None,
    all_folders: bool,
    workspace: Path,
    report: ImportReport,
) -> tuple[list[Path], bool]:
    """The files to read, and whether they were named explicitly (then no ``cwd`` filter)."""
    if path is not None and path.is_file():
        return [path], True
    if path is not None and not path.is_dir():
        raise CarryError(f"{path} does not exist; give a {_NAMES[agent]} session file or folder")
    base = path if path is not None else module.root()
    if not base.is_dir():
        report.problems.append(f"no {_NAMES[agent]} sessions: {base} does not exist")
        return [], False
    listing: Callable[[Path], list[Path]] = module.session_files
    if agent == "codex":
        return listing(base), False
    if all_folders:
        folders = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
        return [f for folder in folders for f in listing(folder)], False
    own = base / module.folder_name(workspace)
    if own.is_dir():
        return listing(own), False
    return listing(base), path is not None


def _target(
    store: SessionStore,
    converted: Converted,
    explicit: bool,
    all_folders: bool,
    others: dict[Path, SessionStore],
) -> SessionStore | None:
    """The store a session goes to, or None when it belongs to another folder (or to no
    known folder, without ``all_folders``)."""
    if explicit:
        return store
    if not converted.cwd:
        return store if all_folders else None
    cwd = Path(os.path.realpath(converted.cwd))
    if cwd == store.workspace:
        return store
    if not all_folders:
        return None
    if cwd not in others:
        others[cwd] = SessionStore(cwd, root=store.root)
    return others[cwd]


def write_converted(
    store: SessionStore, converted: Converted, report: ImportReport, seen: set[tuple[str, str]]
) -> None:
    """Write one converted session unless this store already imported it."""
    key = (converted.agent, converted.source_id)
    if key in seen:
        report.skipped += 1
        return
    entries = build(converted)
    if not any(e["type"] == "message" for e in entries):
        report.problems.append(f"{converted.source_path}: no messages; nothing imported")
        return
    created = converted.created_at or next((e["ts"] for e in entries if e["ts"]), now_iso())
    for entry in entries:  # a source without times: the session's own time stands in
        entry["ts"] = entry["ts"] or created
    header = make_header(_session_id(converted), str(store.workspace), created)
    header[IMPORTED_FROM] = {
        "agent": converted.agent,
        "id": converted.source_id,
        "path": converted.source_path,
    }
    try:
        info = store.adopt(header, entries)
    except SessionExists:  # a session of the user's own with that id: take a fresh one
        header["id"] = new_session_id()
        info = store.adopt(header, entries)
    seen.add(key)
    report.imported.append(info)


def _session_id(converted: Converted) -> str:
    """A stable id from the source's (``claude-<uuid>``), so one source maps to one session."""
    candidate = f"{_PREFIX[converted.agent]}-{converted.source_id}"
    if SESSION_ID_RE.fullmatch(candidate):
        return candidate
    digest = hashlib.sha256(converted.source_id.encode("utf-8", "replace")).hexdigest()
    return f"{_PREFIX[converted.agent]}-{digest[:32]}"
