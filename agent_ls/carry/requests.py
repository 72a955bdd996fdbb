"""Export and import for a front door (the language server): the folder a session lives in,
the request's paths, and the liveness rules of the core. Blocking: run it in a worker thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_ls.carry.agents import import_agent
from agent_ls.carry.bundle import import_bundle
from agent_ls.carry.errors import CarryError
from agent_ls.carry.export import Format, export_file, export_text
from agent_ls.carry.report import ImportReport
from agent_ls.core.sessions import Sessions, uri_to_path


def _absolute(value: str) -> Path:
    path = uri_to_path(value)
    if "\0" in value or not path.is_absolute():
        raise CarryError(f"path: {value!r} is relative; give an absolute path or a file URI")
    return path


def export(
    sessions: Sessions, session_id: str, fmt: Format, path: str | None, active_only: bool
) -> dict[str, Any]:
    """``{path, bytes}`` when written to ``path``, else ``{content}`` (text formats)."""
    folder = sessions.locate(session_id)
    if path is None:
        return {"content": export_text(folder.store, folder.blobs, session_id, fmt, active_only)}
    out = _absolute(path)
    size = export_file(folder.store, folder.blobs, session_id, fmt, out, active_only)
    return {"path": str(out), "bytes": size}


def import_sessions(
    sessions: Sessions,
    path: str | None,
    source: str | None,
    all_folders: bool,
    workspace: str | None,
) -> ImportReport:
    """Import a bundle or another agent's sessions into the folder ``workspace`` names."""
    folder = sessions.folder(workspace)
    where = None if path is None else _absolute(path)
    if source is not None:
        report = import_agent(folder.store, source, where, all_folders)
    else:
        assert where is not None  # the params require a path for a bundle
        report = import_bundle(folder.store, folder.blobs, where)
    sessions.touched(folder)
    return report
