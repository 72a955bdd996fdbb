"""`agent-ls chat`: a terminal client that drives the real server over stdio LSP.

It is what a newcomer runs first, and it is an LSP client like any editor: it starts
`python -m agent_ls`, initializes, and speaks only the wire protocol of docs/protocol.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from agent_ls import __version__
from agent_ls.agent import secrets
from agent_ls.lsp import protocol
from agent_ls.lsp.params import plain
from agent_ls.sessions import layout

HELP = """commands:
  /sessions          list this folder's sessions        /switch N|ID   switch to one
  /new [name]        start a new session                /rename NAME   rename this session
  /fork              fork this session                  /delete        delete this session (trash)
  /checkpoints       list this session's checkpoints    /revert [N]    revert turn N (default: last)
  /undo              undo the last revert               /cancel        cancel (or press Ctrl-C)
  /permissions       remembered "always" answers        /permissions revoke N   forget one
  /help              this text                          /quit          leave (or Ctrl-D)
anything else is sent to the agent."""

NO_KEY = """No API key is set, so the agent cannot answer yet. Either:
  export ANTHROPIC_API_KEY=sk-ant-…            (a key from the Anthropic console)
or use a local model that speaks the Anthropic API, e.g. Ollama:
  export ANTHROPIC_BASE_URL=http://localhost:11434 ANTHROPIC_API_KEY=ollama
  export AGENT_LS_MODEL=qwen3-coder
Sessions can still be browsed (/sessions, /switch, /checkpoints)."""


class Style:
    """ANSI styling, off when the output is not a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.on = out.isatty() and os.environ.get("NO_COLOR") is None

    def __call__(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text


def age(iso: str) -> str:
    """'3m ago' style relative time for the session list."""
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    seconds = int((datetime.now(UTC) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def render_diff(path: str, old: str | None, new: str | None, style: Style) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    shown = []
    for line in lines:
        line = line.rstrip("\n")
        colour = "32" if line.startswith("+") else "31" if line.startswith("-") else "2"
        shown.append(style(colour, line))
    return "\n".join(shown)


class Chat:
    """One terminal conversation with one server process."""

    def __init__(self, workspace: Path, out: TextIO = sys.stdout) -> None:
        self.workspace = workspace
        self.out = out
        self.style = Style(out)
        self.client = LanguageClient("agent-ls-chat", __version__)
        self.session: dict[str, Any] | None = None
        self.listed: list[dict[str, Any]] = []
        self.turn: asyncio.Task[Any] | None = None
        self.last_undo: str | None = None
        self._at_line_start = True
        self._register()

    # -- output --------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        if text:
            self._at_line_start = text.endswith("\n")

    def line(self, text: str = "") -> None:
        if not self._at_line_start:
            self.write("\n")
        self.write(text + "\n")

    # -- server → client -------------------------------------------------------------------------

    def _register(self) -> None:
        client = self.client

        @client.feature(protocol.SESSION_UPDATE)
        def on_update(params: Any) -> None:
            self.show_update(plain(params)["update"])

        @client.feature(protocol.SESSION_LIST_CHANGED)
        def on_list_changed(_: Any) -> None:
            """The list is re-read on demand (/sessions); nothing to redraw in a terminal."""

        @client.feature(protocol.REQUEST_PERMISSION)
        async def on_permission(params: Any) -> dict[str, Any]:
            return await self.ask_permission(plain(params))

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def on_message(params: lsp.ShowMessageParams) -> None:
            self.line(self.style("33", params.message))

    def show_update(self, update: dict[str, Any]) -> None:
        kind = update.get("kind")
        style = self.style
        if kind == "agent_message_chunk":
            self.write(update["content"]["text"])
        elif kind == "agent_thought_chunk":
            self.write(style("2;3", update["content"]["text"]))
        elif kind == "tool_call":
            self.line(style("36", f"⚙ {update['title']}"))
        elif kind == "tool_call_update":
            self.show_tool_result(update)
        elif kind == "checkpoint":
            files = update["checkpoint"].get("files", [])
            names = ", ".join(f"{f['operation']} {f['path']}" for f in files)
            self.line(style("35", f"● checkpoint: {names} (/revert to undo this turn)"))

    def show_tool_result(self, update: dict[str, Any]) -> None:
        status = update.get("status")
        if status == "in_progress":
            return
        mark = self.style("32", "✓") if status == "completed" else self.style("31", "✗")
        for item in update.get("content", []):
            if item.get("type") == "diff":
                self.line(render_diff(item["path"], item["oldText"], item["newText"], self.style))
            elif status == "failed":
                self.line(self.style("31", item["content"]["text"][:2000]))
        self.line(mark)

    async def ask_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        call = params["toolCall"]
        options = params["options"]
        command = (call.get("rawInput") or {}).get("command")
        if isinstance(command, str):  # the whole command, never the title's shortened one
            self.line(self.style("33", "The agent wants to run this command:"))
            self.line(command)
        else:
            self.line(self.style("33", f"The agent wants to: {call.get('title')}"))
        keys = {"allow_once": "y", "allow_always": "a", "reject_once": "n", "reject_always": "N"}
        menu = "  ".join(f"[{keys.get(o['kind'], '?')}] {o['name']}" for o in options)
        answer = await self.read_line(f"{menu} > ")
        for option in options:
            if answer is not None and keys.get(option["kind"]) == answer.strip():
                return {"outcome": {"outcome": "selected", "optionId": option["optionId"]}}
        return {"outcome": {"outcome": "selected", "optionId": _reject_option(options)}}

    # -- client → server -------------------------------------------------------------------------

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        return plain(await self.client.protocol.send_request_async(method, params))

    async def start(self, session_id: str | None, new: bool) -> None:
        log_dir = layout.store_root() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env, secret_fd = secrets.handoff_env(os.environ)
        try:
            await self.client.start_io(
                sys.executable,
                "-m",
                "agent_ls",
                "--log-file",
                str(log_dir / "chat-server.log"),
                env=env,
                pass_fds=() if secret_fd is None else (secret_fd,),
            )
        finally:
            if secret_fd is not None:
                os.close(secret_fd)
        folder = lsp.WorkspaceFolder(uri=self.workspace.as_uri(), name=self.workspace.name)
        await self.client.initialize_async(
            lsp.InitializeParams(
                process_id=os.getpid(),
                capabilities=lsp.ClientCapabilities(),
                workspace_folders=[folder],
                root_uri=folder.uri,
                initialization_options={"permissionUi": True},
            )
        )
        self.client.initialized(lsp.InitializedParams())
        if new:
            self.session = await self.request(protocol.SESSION_NEW, {})
            self.line(f"New session {self.session['sessionId']}")
        elif session_id:
            await self.switch(session_id)
        else:
            await self.show_transcript(await self.request(protocol.SESSION_RESUME_RECENT, {}))

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.shutdown_async(None), 3)
            self.client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.stop(), 3)

    async def switch(self, session_id: str) -> None:
        await self.show_transcript(
            await self.request(protocol.SESSION_SWITCH, {"sessionId": session_id})
        )

    async def show_transcript(self, page: dict[str, Any]) -> None:
        self.session = page["session"]
        title = self.session.get("name") or self.session.get("firstMessage") or "(new session)"
        self.line(self.style("1", f"── {title} ── {self.session['sessionId']}"))
        if page.get("hasMore"):
            self.line(self.style("2", "… earlier messages not shown"))
        for item in page["items"]:
            self.show_item(item)

    def show_item(self, item: dict[str, Any]) -> None:
        kind = item["kind"]
        if kind == "user":
            texts = [b.get("text", "") for b in item["content"] if b.get("type") == "text"]
            self.line(self.style("1;34", "you> ") + "\n".join(texts))
        elif kind == "assistant":
            titles = {c["toolCallId"]: c["title"] for c in item.get("toolCalls", [])}
            for block in item["content"]:
                if block.get("type") == "text":
                    self.line(block["text"])
                elif block.get("type") == "tool_use":
                    title = titles.get(block.get("id"), block.get("name"))
                    self.line(self.style("36", f"⚙ {title}"))
        elif kind == "checkpoint":
            names = ", ".join(f"{f['operation']} {f['path']}" for f in item["files"])
            self.line(self.style("35", f"● checkpoint: {names}"))

    async def prompt(self, text: str) -> None:
        params: dict[str, Any] = {"prompt": text}
        if self.session:
            params["sessionId"] = self.session["sessionId"]
        loop = asyncio.get_running_loop()
        self.turn = asyncio.ensure_future(self.request(protocol.SESSION_PROMPT, params))
        loop.add_signal_handler(signal.SIGINT, self.cancel)
        try:
            result = await self.turn
        except Exception as exc:
            self.line(self.style("31", f"error: {exc}"))
            return
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.turn = None
        self.line()
        reason = result.get("stopReason")
        if reason == "error":
            self.line(self.style("31", result.get("error") or "the turn failed"))
        elif reason == "cancelled":
            self.line(self.style("33", "(cancelled)"))
        elif reason == "max_tokens":
            self.line(self.style("33", "(stopped: the reply reached max tokens)"))
        usage = result.get("usage") or {}
        if usage:
            tokens = f"{usage.get('inputTokens', 0)} in, {usage.get('outputTokens', 0)} out"
            self.line(self.style("2", f"[{tokens}]"))

    def cancel(self) -> None:
        if self.session and self.turn:
            self.client.protocol.notify(
                protocol.SESSION_CANCEL, {"sessionId": self.session["sessionId"]}
            )

    async def read_line(self, prompt: str) -> str | None:
        self.write(prompt)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        return line.rstrip("\n") if line else None

    # -- commands --------------------------------------------------------------------------------

    async def command(self, line: str) -> bool:
        """Run one /command; False to quit."""
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        sid = self.session["sessionId"] if self.session else None
        if name in ("quit", "exit", "q"):
            return False
        if name == "help":
            self.line(HELP)
        elif name == "sessions":
            await self.list_sessions()
        elif name == "new":
            self.session = await self.request(protocol.SESSION_NEW, {"name": arg} if arg else {})
            self.line(f"New session {self.session['sessionId']}")
        elif name == "switch":
            await self.switch(self._pick(arg))
        elif name == "rename" and sid and arg:
            self.session = await self.request(
                protocol.SESSION_RENAME, {"sessionId": sid, "name": arg}
            )
            self.line(f"Renamed to {arg}")
        elif name == "fork" and sid:
            fork = await self.request(protocol.SESSION_FORK, {"sessionId": sid})
            await self.switch(fork["sessionId"])
        elif name == "delete" and sid:
            await self.request(protocol.SESSION_DELETE, {"sessionId": sid})
            self.line("Moved to the trash (agent-ls sessions purge empties it).")
            self.session = await self.request(protocol.SESSION_NEW, {})
        elif name == "checkpoints" and sid:
            await self.list_checkpoints(sid)
        elif name == "revert" and sid:
            await self.revert(sid, arg)
        elif name == "permissions" and sid:
            await self.permissions(sid, arg)
        elif name == "undo":
            await self.undo()
        elif name == "cancel":
            self.cancel()
        else:
            self.line(f"unknown or incomplete command: {line} (/help lists them)")
        return True

    async def permissions(self, sid: str, arg: str) -> None:
        """/permissions lists the remembered answers; /permissions revoke N forgets one."""
        rules = (await self.request(protocol.PERMISSIONS_LIST, {"sessionId": sid}))["rules"]
        words = arg.split()
        if words[:1] == ["revoke"]:
            if len(words) != 2 or not words[1].isdigit() or not 0 < int(words[1]) <= len(rules):
                self.line(f"/permissions revoke N, with N from 1 to {len(rules)}")
                return
            rule = rules[int(words[1]) - 1]
            revoke = {"sessionId": sid, "ruleId": rule["ruleId"]}
            await self.request(protocol.PERMISSIONS_REVOKE, revoke)
            self.line(f"Revoked: {rule['description']}")
            return
        if not rules:
            self.line("No remembered permissions in this session.")
            return
        for number, rule in enumerate(rules, 1):
            self.line(f"{number}. {rule['description']}")
        self.line("/permissions revoke N forgets one: the agent asks again next time.")

    def _pick(self, arg: str) -> str:
        if arg.isdigit() and 0 < int(arg) <= len(self.listed):
            return str(self.listed[int(arg) - 1]["sessionId"])
        return arg

    async def list_sessions(self) -> None:
        result = await self.request(protocol.SESSION_LIST, {"limit": 30})
        self.listed = result["sessions"]
        for n, info in enumerate(self.listed, 1):
            title = info.get("name") or info.get("firstMessage") or "(empty)"
            mark = "*" if info.get("active") else " "
            meta = f"{info['messageCount']} msgs, {age(info['modifiedAt'])}"
            self.line(f"{mark}{n:3}. {title[:60]:60} {self.style('2', meta)}")
        if not self.listed:
            self.line("no sessions yet")

    async def list_checkpoints(self, sid: str) -> list[dict[str, Any]]:
        result = await self.request(protocol.CHECKPOINT_LIST, {"sessionId": sid})
        checkpoints = result["checkpoints"]
        for n, cp in enumerate(checkpoints, 1):
            files = ", ".join(f"{f['operation']} {f['path']}" for f in cp["files"])
            self.line(f"{n:3}. {cp['prompt'][:50]:50} {files}")
        if not checkpoints:
            self.line("no checkpoints in this session")
        return checkpoints

    async def revert(self, sid: str, arg: str) -> None:
        result = await self.request(protocol.CHECKPOINT_LIST, {"sessionId": sid})
        checkpoints = [c for c in result["checkpoints"] if c.get("kind", "turn") == "turn"]
        if not checkpoints:
            self.line("nothing to revert")
            return
        index = int(arg) - 1 if arg.isdigit() else len(checkpoints) - 1
        if not 0 <= index < len(checkpoints):
            self.line(f"no checkpoint {arg}")
            return
        await self.restore(checkpoints[index]["checkpointId"])

    async def restore(self, checkpoint_id: str, force: bool = False) -> None:
        result = await self.request(
            protocol.CHECKPOINT_RESTORE,
            {"checkpointId": checkpoint_id, "scope": "files", "force": force},
        )
        for f in result["files"]:
            reason = f" ({f['reason']})" if f.get("reason") else ""
            self.line(f"  {f['result']:9} {f['path']}{reason}")
        self.last_undo = result.get("undoCheckpointId")
        conflicts = [f for f in result["files"] if f["result"] == "conflict"]
        if conflicts:
            answer = await self.read_line("Some files changed since; overwrite them? [y/N] ")
            if answer and answer.strip().lower() == "y":
                await self.restore(checkpoint_id, force=True)
                return
        if self.last_undo:
            self.line("Reverted. /undo puts the files back.")

    async def undo(self) -> None:
        if not self.last_undo:
            self.line("nothing to undo")
            return
        undo, self.last_undo = self.last_undo, None
        await self.restore(undo)

    async def run(self) -> None:
        while True:
            name = (self.session or {}).get("name") or ""
            line = await self.read_line(self.style("1;34", f"{name}> " if name else "> "))
            if line is None:
                self.line()
                return
            line = line.strip()
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if not await self.command(line):
                        return
                else:
                    await self.prompt(line)
            except Exception as exc:  # a refused request must not end the chat
                self.line(self.style("31", f"error: {exc}"))


def _reject_option(options: Sequence[dict[str, Any]]) -> str:
    for option in options:
        if option["kind"] == "reject_once":
            return str(option["optionId"])
    return str(options[-1]["optionId"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-ls chat", description=__doc__)
    parser.add_argument("--workspace", default=".", help="folder to work in (default: .)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="ID", help="continue this session")
    which.add_argument("--new", action="store_true", help="start a new session")
    return parser


async def _main(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        print(f"agent-ls chat: {workspace} is not a folder", file=sys.stderr)
        return 2
    chat = Chat(workspace)
    needs_key = not secrets.held("ANTHROPIC_API_KEY") and not os.environ.get("AGENT_LS_SCRIPT")
    if needs_key:
        chat.line(chat.style("33", NO_KEY))
    try:
        await chat.start(args.session, args.new)
        chat.line(chat.style("2", "/help for commands, Ctrl-C cancels a reply, Ctrl-D quits"))
        await chat.run()
    finally:
        await chat.stop()
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 130
