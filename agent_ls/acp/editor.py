"""The ACP adapter: the core's editor port over an ACP client, one per session.

Updates go out in order through one queue per session, and a turn's answer waits until they
are written (`flush`). File contents come from the client's `fs/read_text_file` when it offers
it: the port's reads are synchronous, so the files a tool names are fetched just before it runs
(`before_tool`) and served from that copy for the rest of the turn. Writes to those files go
through `fs/write_text_file`, so they land in the editor's buffers; everything else is read and
written on disk. Checkpoints record every change either way (the core's turn host does that).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from acp.agent.connection import AgentSideConnection
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    ClientCapabilities,
    ContentToolCallContent,
    EnvVariable,
    PermissionOption,
    TextContentBlock,
    ToolCallUpdate,
)

from agent_ls.acp import updates
from agent_ls.acp.mcp_servers import McpServers
from agent_ls.acp.updates import Update
from agent_ls.agent import events as ev
from agent_ls.agent.host import CommandRun, HostTool
from agent_ls.agent.permissions import prompt_options, prompt_text
from agent_ls.checkpoints.restore import DirectApplier, FileChange
from agent_ls.core.port import PermissionAnswer, as_buffer_text
from agent_ls.core.tasks import spawn
from agent_ls.core.turn_host import EditRefused

log = logging.getLogger(__name__)
FRAME = 0.016
OUTPUT_LIMIT = 30_000  # what the tool keeps of a command's output when it runs it itself
CHUNKS = (AgentMessageChunk, AgentThoughtChunk)

_ANSWERS: dict[str, PermissionAnswer] = {
    "allow_once": "allow_once",
    "allow_always": "allow_always",
    "reject_once": "reject_once",
    "reject_always": "reject_always",
}


class Outbox:
    """One session's updates, sent in the order they were made by one task.

    Text and thought chunks go out at most once per FRAME: what arrives meanwhile is joined
    into one chunk of the same message. A fast stream is thousands of deltas, and a client reads
    every notification before the answer to its next request; joined, it stays responsive.
    """

    def __init__(self, conn: AgentSideConnection, session_id: str) -> None:
        self.conn = conn
        self.session_id = session_id
        self._pending: deque[Update] = deque()
        self._idle = asyncio.Event()
        self._idle.set()
        self._pump: asyncio.Task[None] | None = None
        self._last_chunk = -FRAME

    def put(self, update: Update) -> None:
        self._pending.append(update)
        self._idle.clear()
        if self._pump is None or self._pump.done():
            self._pump = spawn(self._send(), f"acp updates {self.session_id}")

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                update = self._pending.popleft()
                if isinstance(update, CHUNKS):
                    wait = FRAME - (loop.time() - self._last_chunk)
                    if wait > 0:
                        await asyncio.sleep(wait)
                    update = self._joined(update)
                    self._last_chunk = loop.time()
                try:
                    await self.conn.session_update(session_id=self.session_id, update=update)
                except ConnectionError:  # the client went away: nothing more to tell it
                    log.info("session %s: client gone, update dropped", self.session_id)
                # a write to a pipe with room does not suspend: without this a replay of
                # thousands of updates would hold the loop until the last one is written
                await asyncio.sleep(0)
        finally:
            self._idle.set()

    def _joined(self, first: AgentMessageChunk | AgentThoughtChunk) -> Update:
        """`first` and the chunks of the same kind and message queued right after it, as one."""
        texts = [_text_of(first)]
        while (
            self._pending
            and type(self._pending[0]) is type(first)
            and self._pending[0].message_id == first.message_id  # type: ignore[union-attr]
        ):
            texts.append(_text_of(self._pending.popleft()))
        if len(texts) == 1:
            return first
        return first.model_copy(
            update={"content": TextContentBlock(type="text", text="".join(texts))}
        )

    async def flush(self) -> None:
        """Return once every update put so far is written."""
        await self._idle.wait()


def _text_of(chunk: Any) -> str:
    return str(chunk.content.text)


class AcpEditor:
    """Implements the core's `EditorPort` for one ACP session."""

    def __init__(
        self,
        conn: AgentSideConnection,
        session_id: str,
        capabilities: ClientCapabilities | None,
        context_window: int,
    ) -> None:
        self.conn = conn
        self.session_id = session_id
        self.outbox = Outbox(conn, session_id)
        fs = capabilities.fs if capabilities else None
        self.client_reads = bool(fs and fs.read_text_file)
        self.client_writes = bool(fs and fs.write_text_file)
        self.client_terminals = bool(capabilities and capabilities.terminal)
        self.mcp: McpServers | None = None
        self._running_call: str | None = None
        self.context_window = context_window
        self.roots: Sequence[Path] = ()
        self._buffers: dict[str, str] = {}
        self._message_id = uuid.uuid4().hex

    # -- files ---------------------------------------------------------------------------------

    def buffer_text(self, path: Path) -> str | None:
        return self._buffers.get(os.path.realpath(path))

    def open_buffers(self) -> dict[Path, str]:
        """The client's copies fetched this turn (what grep searches besides the disk)."""
        return {Path(path): text for path, text in self._buffers.items()}

    async def before_tool(self, session_id: str, paths: Sequence[str]) -> None:
        """Fetch the files a tool is about to use from the client (its unsaved text)."""
        if not self.client_reads:
            return
        await self.outbox.flush()  # the client hears of the call before it is asked to read
        for raw in paths:
            path = os.path.realpath(raw)
            if not os.path.isfile(path):  # a directory or a file still to be created
                self._buffers.pop(path, None)
                continue
            try:
                reply = await self.conn.read_text_file(session_id=session_id, path=path)
            except Exception as exc:  # the client cannot read it: the disk is the truth
                log.info("fs/read_text_file %s failed (%s); reading the disk", path, exc)
                self._buffers.pop(path, None)
                continue
            self._buffers[path] = reply.content

    async def apply_text(self, path: Path, text: str) -> bool:
        if not self.client_writes:
            return False
        await self.outbox.flush()
        try:
            await self.conn.write_text_file(
                session_id=self.session_id, path=str(path), content=text
            )
        except Exception as exc:  # refused: nothing is written behind the client's back
            log.warning("fs/write_text_file %s failed: %s", path, exc)
            raise EditRefused(
                f"{path.name} is open in the client, which refused the write ({exc}); "
                "it is unchanged"
            ) from exc
        self._buffers[os.path.realpath(path)] = text
        return True

    async def run_command(
        self, session_id: str, command: str, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandRun | None:
        """Run the command in a client terminal the tool call shows (terminal/*), when offered."""
        if not self.client_terminals:
            return None
        await self.outbox.flush()
        try:
            created = await self.conn.create_terminal(
                session_id=session_id,
                command="/bin/sh",
                args=["-c", command],
                cwd=str(cwd),
                env=[EnvVariable(name=k, value=v) for k, v in env.items()],
                output_byte_limit=OUTPUT_LIMIT,
            )
        except Exception as exc:  # the client could not start it: the tool runs it itself
            log.warning("terminal/create failed (%s); running the command directly", exc)
            return None
        terminal_id = created.terminal_id
        if self._running_call is not None:
            self.send(updates.terminal_progress(self._running_call, terminal_id))
        try:
            return await self._wait(session_id, terminal_id, timeout)
        except BaseException:  # cancelled: the command must not outlive the turn
            await asyncio.shield(self._quietly(self.conn.kill_terminal, session_id, terminal_id))
            raise
        finally:
            await asyncio.shield(self._quietly(self.conn.release_terminal, session_id, terminal_id))

    async def _wait(self, session_id: str, terminal_id: str, timeout: float) -> CommandRun:
        try:
            exited = await asyncio.wait_for(
                self.conn.wait_for_terminal_exit(session_id=session_id, terminal_id=terminal_id),
                timeout,
            )
        except TimeoutError:
            await self.conn.kill_terminal(session_id=session_id, terminal_id=terminal_id)
            out = await self.conn.terminal_output(session_id=session_id, terminal_id=terminal_id)
            return CommandRun(out.output, None, timed_out=True)
        out = await self.conn.terminal_output(session_id=session_id, terminal_id=terminal_id)
        return CommandRun(out.output, exited.exit_code, exited.signal)

    async def _quietly(self, call: Any, session_id: str, terminal_id: str) -> None:
        try:
            await call(session_id=session_id, terminal_id=terminal_id)
        except Exception as exc:  # the terminal is gone already
            log.info("terminal %s: %s", terminal_id, exc)

    def more_tools(self, session_id: str) -> Sequence[HostTool]:
        """The tools of the MCP servers the client passed with the session."""
        return self.mcp.tools() if self.mcp is not None else ()

    def end_turn(self) -> None:
        """Forget the fetched copies: the next turn reads the client afresh."""
        self._buffers.clear()

    def applier(self) -> ClientApplier | None:
        return ClientApplier(self) if self.client_writes else None

    # -- the user ------------------------------------------------------------------------------

    async def ask_permission(self, session_id: str, call: ev.ToolCallStarted) -> PermissionAnswer:
        await self.outbox.flush()  # the client knows the tool call before it is asked about it
        shown = await asyncio.to_thread(prompt_text, call)  # an edit's line counts: a diff
        tool_call = ToolCallUpdate(
            tool_call_id=call.tool_call_id,
            title=call.title,
            kind=call.kind,
            status="pending",
            raw_input=call.raw_input,
            content=[
                ContentToolCallContent(
                    type="content", content=TextContentBlock(type="text", text=shown)
                ),
                *updates.review_content(call),
            ],
        )
        options = [
            PermissionOption(option_id=o["optionId"], name=o["name"], kind=o["kind"])  # type: ignore[arg-type]
            for o in prompt_options(call)
        ]
        try:
            reply = await self.conn.request_permission(
                session_id=session_id, tool_call=tool_call, options=options
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no answer is a no
            log.warning("session/request_permission failed: %s", exc)
            return "reject_once"
        outcome = reply.outcome
        if outcome.outcome != "selected":
            return "reject_once"
        return _ANSWERS.get(getattr(outcome, "option_id", ""), "reject_once")

    # -- notifications -------------------------------------------------------------------------

    def send_update(self, session_id: str, turn_id: str, event: ev.AgentEvent) -> None:
        if isinstance(event, ev.AssistantMessage):  # the next reply is a new message
            self._message_id = uuid.uuid4().hex
        if isinstance(event, ev.ToolCallUpdated):  # a terminal is shown in the running call
            self._running_call = event.tool_call_id if event.status == "in_progress" else None
        update = updates.event_update(event, self._message_id, self.context_window)
        if update is not None:
            self.outbox.put(update)

    def send(self, update: Update) -> None:
        self.outbox.put(update)

    def report_progress(self, session_id: str, message: str) -> None:
        """ACP shows progress as tool calls, which the updates carry already."""

    def list_changed(self) -> None:
        """ACP has no notification for a changed session list; clients ask session/list."""


class ClientApplier:
    """A restore's writes: text through the client (its buffers), the rest on disk."""

    def __init__(self, editor: AcpEditor) -> None:
        self.editor = editor

    async def apply(self, changes: Sequence[FileChange], label: str) -> list[bool | str]:
        results: list[bool | str] = []
        for change in changes:
            text = as_buffer_text(change.new_bytes)
            try:
                if text is not None and await self.editor.apply_text(change.path, text):
                    results.append(True)
                    continue
            except EditRefused as exc:
                results.append(str(exc))
                continue
            results.extend(await DirectApplier(self.editor.roots).apply([change], label))
        return results
