"""The prompting part of the core: the provider, the user message, one turn per session.

A turn runs in its own task, so cancelling the request that started it cancels the turn, which
still ends cleanly (`stopReason: "cancelled"`) and records what it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_ls.agent.compaction import maybe_compact
from agent_ls.agent.config import AgentConfig
from agent_ls.agent.events import CheckpointCreated, TurnEnded
from agent_ls.agent.loop import TurnResult, run_turn
from agent_ls.agent.permissions import Permissions, Rule
from agent_ls.agent.providers import make_provider
from agent_ls.agent.providers.base import Provider
from agent_ls.checkpoints.entries import checkpoint_entry
from agent_ls.checkpoints.history import prompt_text
from agent_ls.checkpoints.listing import CheckpointSummary, summarize
from agent_ls.checkpoints.recorder import TurnRecorder
from agent_ls.core import branch_point
from agent_ls.core.attachments import attachment_text
from agent_ls.core.images import wire_image
from agent_ls.core.pending_provider import PendingProvider
from agent_ls.core.port import EditorPort
from agent_ls.core.sessions import Folder, Sessions
from agent_ls.core.tasks import spawn
from agent_ls.core.turn_host import TurnHost
from agent_ls.sessions.errors import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file, or its lines `lines[0]..lines[1]` (0-based, inclusive), attached to a prompt."""

    path: Path
    lines: tuple[int, int] | None = None


@dataclass(frozen=True)
class PromptOutcome:
    """How a turn ended, and the checkpoint of what it changed (None: no file changed)."""

    session_id: str
    result: TurnResult
    checkpoint: CheckpointSummary | None


class Prompting:
    """Runs turns: one at a time per session, any number of sessions at once."""

    def __init__(self, sessions: Sessions, editor: EditorPort, config: AgentConfig) -> None:
        self.sessions = sessions
        self.editor = editor
        self.config = config
        self.permissions: dict[str, Permissions] = {}
        self._provider: asyncio.Future[Provider] | None = None

    def provider(self) -> asyncio.Future[Provider]:
        """The provider, made once in a worker thread.

        Importing the SDK takes seconds; doing it off the event loop (started right after
        `initialized`) keeps `initialize` fast and every other request answering meanwhile.
        """
        if self._provider is None:
            self._provider = spawn(asyncio.to_thread(make_provider, self.config), "provider")
        return self._provider

    async def user_blocks(
        self, prompt: str | list[dict[str, Any]], attachments: list[Attachment]
    ) -> list[dict[str, Any]]:
        """The user message: the prompt, then each attached file or selection as text (capped,
        read in a worker thread: an attachment may be large, or not a regular file)."""
        blocks = [{"type": "text", "text": prompt}] if isinstance(prompt, str) else []
        for block in [] if isinstance(prompt, str) else prompt:
            if block["type"] == "text":
                blocks.append({"type": "text", "text": block["text"]})
            elif block["type"] == "image":
                blocks.append(wire_image(block))
            else:  # resource_link: name the file; the agent reads it with its tools
                blocks.append({"type": "text", "text": f"Attached file: {block['uri']}"})
        for attachment in attachments:
            buffer = self.editor.buffer_text(attachment.path)
            text = await asyncio.to_thread(
                attachment_text, attachment.path, buffer, attachment.lines
            )
            blocks.append({"type": "text", "text": text})
        return blocks

    async def prompt(
        self,
        session_id: str,
        prompt: str | list[dict[str, Any]],
        attachments: list[Attachment] | None = None,
        *,
        replace_entry_id: str | None = None,
    ) -> PromptOutcome:
        """Run one turn in `session_id` and answer when it ends (cancelled or not).

        After a turn that failed, and in place of `replace_entry_id` (edit and resend), the
        prompt attaches where that turn's prompt did: the old turn stays as a branch.
        """
        self.sessions.locate(session_id)
        self.sessions.turns.ensure_idle(session_id)
        blocks = await self.user_blocks(prompt, attachments or [])
        if replace_entry_id is None:
            return await self._start(session_id, branch_point.after_failure, blocks)
        entry_id = replace_entry_id
        return await self._start(session_id, lambda s: branch_point.replacing(s, entry_id), blocks)

    async def retry(self, session_id: str) -> PromptOutcome:
        """Send the prompt of the last turn again, when it failed or was cancelled, as a new turn
        where it was (the failed one stays as a branch); TurnRequestError when there is none."""
        return await self._start(session_id, branch_point.retrying, [])

    async def compact(self, session_id: str) -> dict[str, Any] | None:
        """Summarize the older part of the conversation now, as a full context window would;
        the `compaction` entry, or None when the conversation is too short to shorten."""
        folder = self.sessions.locate(session_id)
        self.sessions.turns.ensure_idle(session_id)
        provider = await self.provider()
        writer = await asyncio.to_thread(folder.store.writer, session_id)
        try:
            entry = await maybe_compact(provider, writer, self.config, force=True)
        finally:
            writer.close()
        if entry is not None:
            self.sessions.touched(folder)
        return entry

    async def _start(
        self,
        session_id: str,
        choose: Callable[[Any], branch_point.Start | None],
        blocks: list[dict[str, Any]],
    ) -> PromptOutcome:
        sessions = self.sessions
        folder = sessions.locate(session_id)
        sessions.turns.ensure_idle(session_id)
        # opening reads what the store has not parsed yet (a big session: seconds): off the loop;
        # a second prompt meanwhile finds the session locked (SessionBusy), as it should
        writer = await asyncio.to_thread(folder.store.writer, session_id)
        try:
            blocks = await asyncio.to_thread(_attach, writer, choose, blocks)
        except BaseException:
            writer.close()
            raise
        sessions.active = session_id
        task = spawn(self._turn(folder, writer, blocks), f"turn {session_id}")
        # a cancel can reach the task before its first step, when its own clean-up cannot run:
        # the writer (and its lock) is released when the task is done, whatever ended it
        task.add_done_callback(lambda _: writer.close())
        sessions.turns.tasks[session_id] = task
        sessions.touched(folder)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            try:
                return await task
            except asyncio.CancelledError:  # cancelled before it started: nothing was stored
                return PromptOutcome(session_id, TurnResult("cancelled", None, {}, None), None)

    async def _turn(
        self, folder: Folder, writer: Any, blocks: list[dict[str, Any]]
    ) -> PromptOutcome:
        session_id = writer.session.session_id
        roots = self.sessions.roots
        host: TurnHost
        recorder = TurnRecorder(
            folder.blobs,
            roots,
            read_bytes=lambda p: host.read_bytes(p),
            scanner=folder.scanner(roots),
        )
        permissions = self.permissions.setdefault(session_id, Permissions(self.config.permissions))
        host = TurnHost(
            roots,
            session_id=session_id,
            editor=self.editor,
            recorder=recorder,
            permissions=permissions,
        )
        checkpoint: CheckpointSummary | None = None
        try:
            try:
                provider = PendingProvider(self.provider())
                result = await run_turn(
                    provider, writer, blocks, host, self.config, permissions=permissions
                )
            finally:  # whatever ended the turn, the files it changed get their checkpoint
                checkpoint = await self._record_checkpoint(writer, host, recorder, blocks)
            await self._mark_end(writer, host, result)
            await asyncio.to_thread(writer.sync)  # fsync off the loop: other requests go on
            return PromptOutcome(session_id, result, checkpoint)
        except (OSError, sqlite3.Error, StoreError) as exc:
            # the disk failed us mid-turn (full, read-only): what was written stays written
            log.error("session %s: storage failed during a turn: %s", session_id, exc)
            message = f"The session could not be saved: {exc}. Free disk space or check "
            message += "that the session store is writable, then prompt again."
            return PromptOutcome(session_id, TurnResult("error", None, {}, message), checkpoint)
        except Exception as exc:
            log.exception("session %s: the turn failed", session_id)
            message = f"The turn stopped on an internal error ({type(exc).__name__}: {exc}). "
            message += "Any files it changed are in its checkpoint; the server log has details."
            result = TurnResult("error", None, {}, message)
            if host.turn_id:
                with contextlib.suppress(OSError, sqlite3.Error, StoreError):
                    await self._mark_end(writer, host, result)
            return PromptOutcome(session_id, result, checkpoint)
        finally:
            writer.close()
            recorder.release()
            self.sessions.turns.tasks.pop(session_id, None)
            self.sessions.touched(folder)

    async def _record_checkpoint(
        self, writer: Any, host: TurnHost, recorder: TurnRecorder, blocks: list[dict[str, Any]]
    ) -> CheckpointSummary | None:
        """Append the checkpoint entry of the files the turn changed (None if it changed none)."""
        files = recorder.finish()
        if not files:
            return None
        entry = writer.append(checkpoint_entry(host.turn_id, files, user_entry_id=host.turn_id))
        checkpoint = summarize(entry, prompt=prompt_text({"content": blocks}))
        await host.emit(CheckpointCreated(checkpoint))
        return checkpoint

    async def _mark_end(self, writer: Any, host: TurnHost, result: TurnResult) -> None:
        """A turn that failed or was cancelled is marked in the file, and told to the client in
        the shape a reloaded transcript shows it."""
        if result.stop_reason not in branch_point.RETRYABLE:
            return
        entry: dict[str, Any] = {"type": "turn_end", "stopReason": result.stop_reason}
        if result.error:
            entry["error"] = result.error
        stored = writer.append(entry)
        await host.emit(TurnEnded(stored["id"], stored["ts"], result.stop_reason, result.error))

    def permission_rules(self, session_id: str) -> list[Rule]:
        """The "always" answers remembered for a session (in this server, until it exits)."""
        self.sessions.locate(session_id)
        permissions = self.permissions.get(session_id)
        return permissions.rules() if permissions else []

    def revoke_permission(self, session_id: str, rule_id: str) -> bool:
        self.sessions.locate(session_id)
        permissions = self.permissions.get(session_id)
        return permissions is not None and permissions.revoke(rule_id)

    def cancel(self, session_id: str) -> bool:
        """Cancel a running turn; False when none runs (a late cancel is not an error)."""
        task = self.sessions.turns.tasks.get(session_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True


def _attach(
    writer: Any, choose: Callable[[Any], branch_point.Start | None], blocks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Move the leaf to where the new prompt attaches (a `leaf` entry, when it moves); the
    prompt to send (a retry's comes from the file)."""
    start = choose(writer.session)
    if start is None:
        return blocks
    if writer.session.leaf_id != start.parent:
        writer.set_leaf(start.parent)
    return start.blocks if start.blocks is not None else blocks
