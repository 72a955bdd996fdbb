"""The per-client core: one session store per workspace folder, the active session, running turns.

Nothing here knows about LSP: the server passes parsed params in and shapes what comes back.
The outside world (editor buffers, applyEdit, permission prompts, update notifications) is reached
through the `ClientPort` the server implements, so the whole service runs in tests without LSP.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from agent_ls.sessions.errors import SessionBusy, SessionNotFound
from agent_ls.sessions.session import Session
from agent_ls.sessions.store import SessionInfo, SessionStore, list_all_workspaces

log = logging.getLogger(__name__)


class UnknownWorkspace(ValueError):
    """A request named a folder that is not one of this client's workspace folders."""


class ClientPort(Protocol):
    """What the service needs from the editor; the LSP server implements it."""

    def list_changed(self) -> None: ...


def uri_to_path(value: str) -> Path:
    """Accept a `file://` URI or a plain path."""
    if value.startswith("file:"):
        return Path(unquote(urlparse(value).path))
    return Path(value)


@dataclass
class Folder:
    """One workspace folder and its store."""

    path: Path
    store: SessionStore
    fingerprint: object = None


@dataclass
class Transcript:
    """A page of a session's active path, as switch/history return it."""

    info: SessionInfo
    entries: list[dict[str, Any]]
    has_more: bool


@dataclass
class AgentService:
    """Sessions for every folder of one editor window."""

    folder_paths: Iterable[Path]
    client: ClientPort
    store_root: Path | None = None
    active: str | None = None
    turns: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    folders: list[Folder] = field(init=False)

    def __post_init__(self) -> None:
        seen: dict[Path, Folder] = {}
        for raw in self.folder_paths:
            path = Path(os.path.realpath(raw))
            if path not in seen:
                seen[path] = Folder(path, SessionStore(path, root=self.store_root))
        if not seen:
            cwd = Path(os.path.realpath(os.getcwd()))
            seen[cwd] = Folder(cwd, SessionStore(cwd, root=self.store_root))
        self.folders = list(seen.values())
        for folder in self.folders:
            folder.fingerprint = folder.store.fingerprint()

    # -- folders and lookup -------------------------------------------------------------------

    @property
    def roots(self) -> list[Path]:
        return [f.path for f in self.folders]

    def folder(self, workspace: str | None) -> Folder:
        """The folder a request names (URI or path), or the first one."""
        if workspace is None:
            return self.folders[0]
        wanted = Path(os.path.realpath(uri_to_path(workspace)))
        for folder in self.folders:
            if folder.path == wanted:
                return folder
        raise UnknownWorkspace(f"workspace: {workspace} is not a workspace folder of this client")

    def locate(self, session_id: str) -> Folder:
        """The folder whose store holds `session_id`."""
        for folder in self.folders:
            try:
                folder.store.info(session_id)
            except SessionNotFound:
                continue
            return folder
        raise SessionNotFound(session_id)

    def is_live(self, session_id: str) -> bool:
        task = self.turns.get(session_id)
        return task is not None and not task.done()

    def _not_running(self, session_id: str) -> None:
        if self.is_live(session_id):
            raise SessionBusy(session_id, os.getpid())

    def _touched(self, folder: Folder) -> None:
        """Our own write: remember the new fingerprint so it is not announced as foreign."""
        folder.fingerprint = folder.store.fingerprint()

    # -- session requests --------------------------------------------------------------------

    def list_sessions(
        self,
        *,
        cursor: str | None,
        limit: int,
        query: str | None,
        all_workspaces: bool,
        workspace: str | None,
    ) -> tuple[list[SessionInfo], str | None]:
        if all_workspaces:
            return list_all_workspaces(self.store_root, cursor=cursor, limit=limit, query=query)
        return self.folder(workspace).store.list(cursor=cursor, limit=limit, query=query)

    def new_session(self, *, name: str | None, workspace: str | None) -> SessionInfo:
        folder = self.folder(workspace)
        info = folder.store.create(name=name.strip() if name else None)
        self._touched(folder)
        self.active = info.session_id
        return info

    def switch(self, session_id: str, *, limit: int = 50) -> Transcript:
        """Make `session_id` active and return the last page of its transcript.

        Switching away from a session whose turn is still running is refused: the editor would
        stop showing a turn that keeps editing files.
        """
        if self.active and self.active != session_id:
            self._not_running(self.active)
        folder = self.locate(session_id)
        session = folder.store.load(session_id)
        entries, has_more = session.history(limit=limit)
        self.active = session_id
        return Transcript(folder.store.info(session_id), entries, has_more)

    def resume_recent(self, workspace: str | None) -> Transcript:
        folder = self.folder(workspace)
        recent = folder.store.most_recent()
        if recent is None:
            info = self.new_session(name=None, workspace=workspace)
            return Transcript(info, [], False)
        return self.switch(recent.session_id)

    def history(self, session_id: str, *, before: str | None, limit: int) -> Transcript:
        folder = self.locate(session_id)
        session: Session = folder.store.load(session_id)
        entries, has_more = session.history(before=before, limit=limit)
        return Transcript(folder.store.info(session_id), entries, has_more)

    def rename(self, session_id: str, name: str) -> SessionInfo:
        folder = self.locate(session_id)
        info = folder.store.rename(session_id, name.strip())
        self._touched(folder)
        return info

    def delete(self, session_id: str) -> None:
        self._not_running(session_id)
        folder = self.locate(session_id)
        folder.store.delete(session_id)
        self._touched(folder)
        if self.active == session_id:
            self.active = None

    def fork(self, session_id: str, entry_id: str | None) -> SessionInfo:
        folder = self.locate(session_id)
        info = folder.store.fork(session_id, entry_id)
        self._touched(folder)
        return info

    # -- store watching ------------------------------------------------------------------------

    def foreign_changes(self) -> bool:
        """True when another process changed any folder's sessions since we last looked."""
        changed = False
        for folder in self.folders:
            now = folder.store.fingerprint()
            if now != folder.fingerprint:
                folder.fingerprint = now
                changed = True
        return changed

    async def watch(self, interval: float = 1.0) -> None:
        """Poll the stores and tell the client when another window wrote."""
        while True:
            await asyncio.sleep(interval)
            try:
                if self.foreign_changes():
                    self.client.list_changed()
            except OSError as exc:  # a folder vanished or the disk is unhappy: keep serving
                log.warning("watching the session store failed: %s", exc)
