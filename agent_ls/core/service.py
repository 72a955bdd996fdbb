"""The per-client core: one session store per workspace folder, the active session, running turns.

Nothing here knows about LSP: the server passes parsed params in and shapes what comes back.
The outside world (editor buffers, applyEdit, permission prompts, update notifications) is reached
through the `ClientPort` the server implements, so the whole service runs in tests without LSP.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.events import CheckpointCreated
from agent_ls.agent.loop import TurnResult, run_turn
from agent_ls.agent.permissions import Permissions, Rule
from agent_ls.agent.providers import make_provider
from agent_ls.agent.providers.base import Provider
from agent_ls.checkpoints import restore as restoring
from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.diffs import file_diffs
from agent_ls.checkpoints.entries import UNKNOWN, checkpoint_entry, operation_of
from agent_ls.checkpoints.errors import CheckpointNotFound
from agent_ls.checkpoints.history import find_checkpoint
from agent_ls.checkpoints.listing import list_checkpoints
from agent_ls.checkpoints.recorder import TurnRecorder
from agent_ls.checkpoints.restore import Applier, DirectApplier
from agent_ls.checkpoints.scan import Scanner
from agent_ls.core.attachments import attachment_text
from agent_ls.core.pending_provider import PendingProvider
from agent_ls.core.turn_host import EditorPort, TurnHost, editor_bytes
from agent_ls.lsp import protocol
from agent_ls.sessions.errors import SessionBusy, SessionNotFound, StoreError
from agent_ls.sessions.session import Session
from agent_ls.sessions.store import SessionInfo, SessionStore, list_all_workspaces

log = logging.getLogger(__name__)


class UnknownWorkspace(ValueError):
    """A request named a folder that is not one of this client's workspace folders."""


class ClientPort(EditorPort, Protocol):
    """What the service needs from the editor; the LSP server implements it."""

    def list_changed(self) -> None:
        """Tell the client another process changed the sessions."""
        ...

    def applier(self) -> Applier | None:
        """The editor's workspace/applyEdit applier for restores, if the client has one."""
        ...


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
    _scanner: Scanner | None = None

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.store.dir / "blobs")

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
    entries: list[dict[str, Any]]
    has_more: bool


@dataclass
class AgentService:
    """Sessions for every folder of one editor window."""

    folder_paths: Iterable[Path]
    client: ClientPort
    store_root: Path | None = None
    config: AgentConfig = field(default_factory=AgentConfig)
    active: str | None = None
    turns: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    permissions: dict[str, Permissions] = field(default_factory=dict)
    _provider: asyncio.Future[Provider] | None = None
    folders: list[Folder] = field(init=False)

    def __post_init__(self) -> None:
        self.folders = []
        self.set_folders(self.folder_paths)

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

    # -- folders and lookup -------------------------------------------------------------------

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

    def is_live(self, session_id: str) -> bool:
        task = self.turns.get(session_id)
        return task is not None and not task.done()

    def _not_running(self, session_id: str) -> None:
        if self.is_live(session_id):
            raise SessionBusy(session_id, os.getpid())

    def _touched(self, folder: Folder) -> None:
        """Our own write: remember the new fingerprint so it is not announced as foreign."""
        folder.fingerprint = folder.store.fingerprint(exclude=self._writing())

    def _writing(self) -> set[str]:
        """Sessions whose turn runs here: their appends are ours, not another window's."""
        return {sid for sid, task in self.turns.items() if not task.done()}

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
        """Create a session and make it active (refused, like a switch, mid-turn)."""
        if self.active:
            self._not_running(self.active)
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

    # -- prompting -----------------------------------------------------------------------------

    def provider(self) -> asyncio.Future[Provider]:
        """The provider, made once in a worker thread.

        Importing the SDK takes seconds; doing it off the event loop (started right after
        `initialized`) keeps `initialize` fast and every other request answering meanwhile.
        """
        if self._provider is None:
            self._provider = asyncio.ensure_future(asyncio.to_thread(make_provider, self.config))
        return self._provider

    async def prompt_blocks(
        self, prompt: str | list[dict[str, Any]], context: list[protocol.ContextRef] | None
    ) -> list[dict[str, Any]]:
        """The user message: the prompt, then each attached file or selection as text (capped,
        read in a worker thread: an attachment may be large, or not a regular file)."""
        blocks = [{"type": "text", "text": prompt}] if isinstance(prompt, str) else []
        for block in [] if isinstance(prompt, str) else prompt:
            if block["type"] == "text":
                blocks.append({"type": "text", "text": block["text"]})
            else:  # resource_link: name the file; the agent reads it with its tools
                blocks.append({"type": "text", "text": f"Attached file: {block['uri']}"})
        for ref in context or []:
            path = uri_to_path(ref.uri)
            lines = None
            if ref.range is not None:
                start, end = ref.range.start.line, ref.range.end.line
                if ref.range.end.character == 0 and end > start:
                    end -= 1
                lines = (start, end)
            buffer = self.client.buffer_text(path)
            text = await asyncio.to_thread(attachment_text, path, buffer, lines)
            blocks.append({"type": "text", "text": text})
        return blocks

    def prompt_target(self, session_id: str | None) -> str:
        """The session a prompt goes to: the one named, else the active one, else a new one."""
        if session_id is not None:
            self.locate(session_id)
            return session_id
        return self.active or self.new_session(name=None, workspace=None).session_id

    async def prompt(
        self,
        session_id: str,
        prompt: str | list[dict[str, Any]],
        context: list[protocol.ContextRef] | None = None,
    ) -> tuple[TurnResult, str | None]:
        """Run one turn; returns the result and the turn's checkpoint id, if it changed files.

        The turn runs in its own task: a cancelled request (`$/cancelRequest`) cancels the turn,
        which keeps what streamed and still answers with `stopReason: "cancelled"`.
        """
        folder = self.locate(session_id)
        self._not_running(session_id)
        blocks = await self.prompt_blocks(prompt, context)
        writer = folder.store.writer(session_id)
        self.active = session_id
        task = asyncio.ensure_future(self._turn(folder, writer, blocks))
        self.turns[session_id] = task
        self._touched(folder)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            return await task

    async def _turn(
        self, folder: Folder, writer: Any, blocks: list[dict[str, Any]]
    ) -> tuple[TurnResult, str | None]:
        session_id = writer.session.session_id
        blobs = folder.blobs
        host: TurnHost
        recorder = TurnRecorder(
            blobs,
            self.roots,
            read_bytes=lambda p: host.read_bytes(p),
            scanner=folder.scanner(self.roots),
        )
        permissions = self.permissions.setdefault(session_id, Permissions(self.config.permissions))
        host = TurnHost(
            self.roots,
            session_id=session_id,
            editor=self.client,
            recorder=recorder,
            permissions=permissions,
        )
        checkpoint: str | None = None
        try:
            try:
                provider = PendingProvider(self.provider())
                result = await run_turn(
                    provider, writer, blocks, host, self.config, permissions=permissions
                )
            finally:  # whatever ended the turn, the files it changed get their checkpoint
                checkpoint = await self._record_checkpoint(writer, host, recorder, blocks)
            await asyncio.to_thread(writer.sync)  # fsync off the loop: other requests go on
            return result, checkpoint
        except (OSError, sqlite3.Error, StoreError) as exc:
            # the disk failed us mid-turn (full, read-only): what was written stays written
            log.error("session %s: storage failed during a turn: %s", session_id, exc)
            message = f"The session could not be saved: {exc}. Free disk space or check "
            message += "that the session store is writable, then prompt again."
            return TurnResult("error", None, {}, message), checkpoint
        except Exception as exc:
            log.exception("session %s: the turn failed", session_id)
            message = f"The turn stopped on an internal error ({type(exc).__name__}: {exc}). "
            message += "Any files it changed are in its checkpoint; the server log has details."
            return TurnResult("error", None, {}, message), checkpoint
        finally:
            writer.close()
            recorder.release()
            self.turns.pop(session_id, None)
            self._touched(folder)

    async def _record_checkpoint(
        self, writer: Any, host: TurnHost, recorder: TurnRecorder, blocks: list[dict[str, Any]]
    ) -> str | None:
        """Append the checkpoint entry of the files the turn changed (None if it changed none)."""
        files = recorder.finish()
        if not files:
            return None
        session_id = writer.session.session_id
        entry = writer.append(checkpoint_entry(host.turn_id, files, user_entry_id=host.turn_id))
        await host.emit(CheckpointCreated(new_checkpoint(session_id, entry, blocks)))
        return protocol.checkpoint_id(session_id, entry["id"])

    def cancel(self, session_id: str) -> bool:
        """Cancel a running turn; False when none runs (a late cancel is not an error)."""
        task = self.turns.get(session_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    # -- remembered permissions ----------------------------------------------------------------

    def permission_rules(self, session_id: str) -> list[Rule]:
        """The "always" answers remembered for a session (in this server, until it exits)."""
        self.locate(session_id)
        permissions = self.permissions.get(session_id)
        return permissions.rules() if permissions else []

    def revoke_permission(self, session_id: str, rule_id: str) -> bool:
        self.locate(session_id)
        permissions = self.permissions.get(session_id)
        return permissions is not None and permissions.revoke(rule_id)

    # -- checkpoints -----------------------------------------------------------------------------

    def _read_bytes(self, path: Path) -> bytes | None:
        return editor_bytes(self.client, path)

    def checkpoints(self, session_id: str) -> list[dict[str, Any]]:
        session = self.locate(session_id).store.load(session_id)
        return [
            checkpoint_to_wire(session_id, s.to_json())
            for s in list_checkpoints(session, self._read_bytes)
        ]

    def _checkpoint(self, checkpoint_id: str) -> tuple[Folder, Session, str]:
        session_id, entry_id = protocol.split_checkpoint_id(checkpoint_id)
        try:
            folder = self.locate(session_id)
        except SessionNotFound:
            raise CheckpointNotFound(checkpoint_id) from None
        return folder, folder.store.load(session_id), entry_id

    def checkpoint_diff(self, checkpoint_id: str, uri: str | None) -> list[dict[str, Any]]:
        folder, session, entry_id = self._checkpoint(checkpoint_id)
        _, entry = find_checkpoint(session, entry_id)
        paths = None if uri is None else {uri_to_path(uri).as_posix()}
        return file_diffs(entry, folder.blobs, paths=paths)

    async def restore(
        self, checkpoint_id: str, *, scope: str, dry_run: bool, force: bool
    ) -> dict[str, Any]:
        """Revert a checkpoint (and every later one); the result names an undo checkpoint."""
        folder, session, entry_id = self._checkpoint(checkpoint_id)
        self._not_running(session.session_id)
        blobs = folder.blobs
        plan = restoring.plan(
            session,
            entry_id,
            blobs=blobs,
            roots=self.roots,
            read_bytes=self._read_bytes,
            scope=scope,  # type: ignore[arg-type]
            force=force,
        )
        if dry_run:
            files = [
                restoring.FileResult(p.path, p.operation, p.result, p.reason) for p in plan.files
            ]
            return restore_to_wire(session.session_id, False, files, None)
        with folder.store.writer(session.session_id) as writer:
            result = await restoring.apply(
                plan,
                self.client.applier() or DirectApplier(self.roots),
                blobs,
                writer,
                "Agent: revert turn",
                read_bytes=self._read_bytes,
            )
        self._touched(folder)
        return restore_to_wire(
            session.session_id, result.applied, result.files, result.undo_checkpoint_id
        )

    # -- store watching ------------------------------------------------------------------------

    def foreign_changes(self) -> bool:
        """True when another process changed any folder's sessions since we last looked."""
        changed = False
        writing = self._writing()
        for folder in self.folders:
            now = folder.store.fingerprint(exclude=writing)
            if now != folder.fingerprint:
                folder.fingerprint = now
                changed = True
        return changed

    async def watch(self, interval: float = 1.0) -> None:
        """Poll the stores and tell the client when another window wrote.

        The poll stats every session file, tens of milliseconds in a large store: a worker
        thread does it so requests are not held up.
        """
        while True:
            await asyncio.sleep(interval)
            try:
                if await asyncio.to_thread(self.foreign_changes):
                    self.client.list_changed()
            except OSError as exc:  # a folder vanished or the disk is unhappy: keep serving
                log.warning("watching the session store failed: %s", exc)


def new_checkpoint(
    session_id: str, entry: dict[str, Any], prompt: list[dict[str, Any]]
) -> dict[str, Any]:
    """The Checkpoint of a turn that just ended: nothing changed its files since."""
    files = [
        {
            "path": f["path"],
            "operation": operation_of(f["before"], f["after"]),
            "restorable": f["before"] != UNKNOWN,
            "conflict": False,
        }
        for f in entry["files"]
    ]
    summary = {
        "checkpointId": entry["id"],
        "turnId": entry["turnId"],
        "kind": entry["kind"],
        "createdAt": entry["ts"],
        "userEntryId": entry.get("userEntryId"),
        "prompt": next((b["text"] for b in prompt if b.get("type") == "text"), ""),
        "active": True,
        "files": files,
    }
    return checkpoint_to_wire(session_id, summary)


def checkpoint_to_wire(session_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint summary with the session-qualified id and file URIs the wire uses."""
    return {
        **summary,
        "checkpointId": protocol.checkpoint_id(session_id, summary["checkpointId"]),
        "entryId": summary["checkpointId"],
        "files": [{**f, "uri": Path(f["path"]).as_uri()} for f in summary["files"]],
    }


def restore_to_wire(
    session_id: str, applied: bool, files: list[Any], undo: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "applied": applied,
        "files": [
            {
                "uri": Path(f.path).as_uri(),
                "path": f.path,
                "operation": f.operation,
                "result": f.result,
                **({"reason": f.reason} if f.reason else {}),
            }
            for f in files
        ],
    }
    if undo:
        out["undoCheckpointId"] = protocol.checkpoint_id(session_id, undo)
    return out
