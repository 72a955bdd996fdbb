"""The sessions part of the core: a store per workspace folder, the active session, liveness.

A turn runs in one session at a time; `RunningTurns` is what every part of the core asks before
it changes a session (switching away from a running turn, deleting or restoring it is refused).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.gc import BLOBS
from agent_ls.checkpoints.scan import Scanner
from agent_ls.core.transcript import TranscriptItem, transcript_items
from agent_ls.sessions import retention
from agent_ls.sessions.errors import SessionBusy, SessionNotFound, StoreError
from agent_ls.sessions.index import Filters
from agent_ls.sessions.search import SearchHit, all_stores, search
from agent_ls.sessions.store import SessionInfo, SessionStore, list_all_workspaces

log = logging.getLogger(__name__)

FOCUS_CONTEXT = 10  # entries shown before a focused one


class UnknownWorkspace(ValueError):
    """A request named a folder that is not one of this client's workspace folders."""


def uri_to_path(value: str) -> Path:
    """Accept a `file://` URI or a plain path."""
    if value.startswith("file:"):
        return Path(unquote(urlparse(value).path))
    return Path(value)


def touched_key(value: str) -> str:
    """A file as checkpoints record it: absolute, symlinks resolved, POSIX form."""
    try:
        return Path(os.path.realpath(uri_to_path(value))).as_posix()
    except ValueError:  # a NUL byte: no checkpoint names it
        raise UnknownWorkspace(f"touchedPath: {value!r} is not a path") from None


@dataclass
class Folder:
    """One workspace folder, its store and its one blob store.

    One BlobStore per folder: `BlobStore.sync()` fsyncs only the blobs written through that
    instance, so the scanner and the turn's recorder must share it.
    """

    path: Path
    store: SessionStore
    blobs: BlobStore = field(init=False)
    fingerprint: object = None
    _scanner: Scanner | None = None

    def __post_init__(self) -> None:
        self.blobs = BlobStore(self.store.dir / BLOBS)

    def scanner(self, roots: list[Path]) -> Scanner:
        """One long-lived scanner: its copies of small files are the prior content of what the
        next shell command changes, so they must outlive a single turn."""
        if self._scanner is None or list(self._scanner.roots) != roots:
            self._scanner = Scanner(roots, self.blobs)
        return self._scanner


@dataclass
class Transcript:
    """A page of a session's active path, as switch/history return it."""

    info: SessionInfo
    items: list[TranscriptItem]
    has_more: bool
    focus_entry_id: str | None = None


@dataclass
class RunningTurns:
    """The task of each session whose turn runs in this process."""

    tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    def is_live(self, session_id: str) -> bool:
        task = self.tasks.get(session_id)
        return task is not None and not task.done()

    def ensure_idle(self, session_id: str) -> None:
        """Refuse to change a session whose turn is running (SessionBusy)."""
        if self.is_live(session_id):
            raise SessionBusy(session_id, os.getpid())

    def writing(self) -> set[str]:
        """Sessions whose turn runs here: their appends are ours, not another window's."""
        return {sid for sid, task in self.tasks.items() if not task.done()}


class Sessions:
    """Every folder's sessions for one editor window, and which one is active."""

    def __init__(
        self, folder_paths: Iterable[Path], store_root: Path | None, turns: RunningTurns
    ) -> None:
        self.store_root = store_root
        self.turns = turns
        self.retention: dict[str, Any] = {}  # initializationOptions' policy; settings.json wins
        self.active: str | None = None
        self.folders: list[Folder] = []
        self.set_folders(folder_paths)

    def set_folders(self, paths: Iterable[Path]) -> None:
        """Serve these folders (the editor added or removed some); the cwd if there are none."""
        known = {f.path: f for f in self.folders}
        folders: dict[Path, Folder] = {}
        for raw in list(paths) or [Path(os.getcwd())]:
            path = Path(os.path.realpath(raw))
            if path not in folders:
                folders[path] = known.get(path) or Folder(
                    path, SessionStore(path, root=self.store_root)
                )
        for folder in folders.values():
            if folder.fingerprint is None:
                folder.fingerprint = folder.store.fingerprint()
        self.folders = list(folders.values())

    @property
    def roots(self) -> list[Path]:
        return [f.path for f in self.folders]

    def folder(self, workspace: str | None) -> Folder:
        """The folder a request names (URI or path), or the first one."""
        if workspace is None:
            return self.folders[0]
        try:
            wanted = Path(os.path.realpath(uri_to_path(workspace)))
        except ValueError:  # a NUL byte: no such folder
            raise UnknownWorkspace(f"workspace: {workspace!r} is not a path") from None
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

    def touched(self, folder: Folder) -> None:
        """Our own write: remember the new fingerprint so it is not announced as foreign."""
        folder.fingerprint = folder.store.fingerprint(exclude=self.turns.writing())

    def foreign_changes(self) -> bool:
        """True when another process changed any folder's sessions since we last looked."""
        changed = False
        writing = self.turns.writing()
        for folder in self.folders:
            now = folder.store.fingerprint(exclude=writing)
            if now != folder.fingerprint:
                folder.fingerprint = now
                folder.store.rescan()  # an edit in place is seen by the next list too
                changed = True
        return changed

    # -- requests ----------------------------------------------------------------------------

    def list(
        self,
        *,
        cursor: str | None,
        limit: int,
        query: str | None,
        all_workspaces: bool,
        workspace: str | None,
        filters: Filters | None = None,
    ) -> tuple[list[SessionInfo], str | None]:
        if all_workspaces:
            return list_all_workspaces(
                self.store_root, cursor=cursor, limit=limit, query=query, filters=filters
            )
        store = self.folder(workspace).store
        return store.list(cursor=cursor, limit=limit, query=query, filters=filters)

    def new(
        self, *, name: str | None, workspace: str | None, session_id: str | None = None
    ) -> SessionInfo:
        """Create a session and make it active (refused, like a switch, mid-turn)."""
        if self.active:
            self.turns.ensure_idle(self.active)
        folder = self.folder(workspace)
        info = folder.store.create(name=name.strip() if name else None, session_id=session_id)
        self.touched(folder)
        self.active = info.session_id
        return info

    def select(self, session_id: str) -> None:
        """Make `session_id` active.

        Switching away from a session whose turn is still running is refused: the editor would
        stop showing a turn that keeps editing files.
        """
        if self.active and self.active != session_id:
            self.turns.ensure_idle(self.active)
        self.locate(session_id)
        self.active = session_id

    def page(
        self,
        session_id: str,
        *,
        before: str | None = None,
        limit: int = 50,
        focus: str | None = None,
    ) -> Transcript:
        """A page of the session's active path (the last one by default); changes nothing, so
        a front door may build it in a worker thread: titling a page of tool calls and reading
        the file are not cheap. With ``focus`` the page reaches back to that entry and
        ``FOCUS_CONTEXT`` entries before it."""
        folder = self.locate(session_id)
        session = folder.store.load(session_id)
        if focus is not None:
            ids = [e["id"] for e in session.path()]
            if focus in ids:
                limit = max(limit, len(ids) - ids.index(focus) + FOCUS_CONTEXT)
        entries, has_more = session.history(before=before, limit=limit)
        return Transcript(
            folder.store.info(session_id),
            transcript_items(entries, self.roots),
            has_more,
            focus,
        )

    def focus(self, session_id: str, entry_id: str) -> None:
        """Make the branch holding ``entry_id`` the active one (a search hit on another branch
        moves the leaf to that branch's newest entry; nothing moves for one on the path)."""
        folder = self.locate(session_id)
        tip = folder.store.branch_tip(session_id, entry_id)
        if tip is not None:
            self.turns.ensure_idle(session_id)
            folder.store.move_leaf(session_id, tip)
            self.touched(folder)

    def reset(self, session_id: str) -> None:
        """Make `session_id` active on a new, empty branch from its root; the old one stays."""
        self.select(session_id)
        self.turns.ensure_idle(session_id)
        folder = self.locate(session_id)
        folder.store.reset(session_id)
        self.touched(folder)

    def set_metadata(
        self, session_id: str, tags: list[str] | None, metadata: dict[str, str | None] | None
    ) -> SessionInfo:
        folder = self.locate(session_id)
        info = folder.store.set_metadata(session_id, tags, metadata)
        self.touched(folder)
        return info

    def search(
        self,
        query: str,
        *,
        workspace: str | None,
        all_workspaces: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[SearchHit], str | None]:
        """Full-text search of one folder's sessions or every workspace's; reads files and
        sqlite, so a front door runs it in a worker thread."""
        if not all_workspaces:
            return search([self.folder(workspace).store], query, limit, cursor)
        stores = all_stores(self.store_root)
        try:
            return search(stores, query, limit, cursor)
        finally:
            for store in stores:
                store.close()

    def trash(
        self, *, workspace: str | None, all_workspaces: bool
    ) -> list[tuple[SessionInfo, str]]:
        """Trashed sessions with when each was deleted, most recent first; the listing is
        recorded, so retention may purge them later (never before they were shown)."""
        stores = all_stores(self.store_root) if all_workspaces else [self.folder(workspace).store]
        out: list[tuple[SessionInfo, str]] = []
        try:
            for store in stores:
                found = store.trash()
                retention.record_listed(store, found)
                out.extend(found)
        finally:
            if all_workspaces:
                for store in stores:
                    store.close()
        out.sort(key=lambda pair: pair[1], reverse=True)
        return out

    def undelete(self, session_id: str) -> SessionInfo:
        """Bring a session back from the trash of whichever folder holds it."""
        for folder in self.folders:
            try:
                info = folder.store.restore(session_id)
            except SessionNotFound:
                continue
            self.touched(folder)
            return info
        raise SessionNotFound(f"{session_id} in the trash")

    def collect(self) -> list[retention.Plan]:
        """Apply each folder's retention policy (off unless configured); sessions with a
        running turn are left alone."""
        plans = []
        for folder in self.folders:
            policy = retention.policy_for(folder.store, self.retention)
            if not policy.active:
                continue
            try:
                plan = retention.run(folder.store, policy, dry_run=False, busy=self.turns.writing())
            except (StoreError, OSError) as exc:  # the store stays as it was; say so, go on
                log.warning("%s: retention not applied (%s)", folder.path, exc)
                continue
            plans.append(plan)
            self.touched(folder)
        return plans

    def switch(self, session_id: str) -> Transcript:
        """Make `session_id` active and return the last page of its transcript."""
        self.select(session_id)
        return self.page(session_id)

    def resume_target(self, workspace: str | None) -> str:
        """Select the folder's most recently modified session, or a new one if it has none."""
        recent = self.folder(workspace).store.most_recent()
        if recent is None:
            return self.new(name=None, workspace=workspace).session_id
        self.select(recent.session_id)
        return recent.session_id

    def resume_recent(self, workspace: str | None) -> Transcript:
        return self.page(self.resume_target(workspace))

    def rename(self, session_id: str, name: str) -> SessionInfo:
        folder = self.locate(session_id)
        info = folder.store.rename(session_id, name.strip())
        self.touched(folder)
        return info

    def delete(self, session_id: str) -> None:
        self.turns.ensure_idle(session_id)
        folder = self.locate(session_id)
        folder.store.delete(session_id)
        self.touched(folder)
        if self.active == session_id:
            self.active = None

    def fork(self, session_id: str, entry_id: str | None) -> SessionInfo:
        folder = self.locate(session_id)
        info = folder.store.fork(session_id, entry_id)
        self.touched(folder)
        return info

    def prompt_target(self, session_id: str | None) -> str:
        """The session a prompt goes to: the one named, else the active one, else a new one."""
        if session_id is not None:
            self.locate(session_id)
            return session_id
        return self.active or self.new(name=None, workspace=None).session_id
