"""The chat itself: one server process over stdio LSP, one conversation on the terminal.

It is an LSP client like any editor: it starts `python -m agent_ls`, initializes, and speaks
only the wire protocol of docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from rich.console import Console
from rich.text import Text

from agent_ls import __version__
from agent_ls.agent import secrets
from agent_ls.cli.chat import finding, restoring
from agent_ls.cli.chat.files import mentioned, workspace_files
from agent_ls.cli.chat.finding import age
from agent_ls.cli.chat.keyboard import (
    ChatCompleter,
    Interrupted,
    Keyboard,
    history_file,
    pick_number,
)
from agent_ls.cli.chat.prices import request_cost
from agent_ls.cli.chat.render import (
    TURN_ENDS,
    TurnView,
    color_diff,
    diff_text,
    prompt_text,
    result_update,
    turn_end_marker,
    usage_line,
)
from agent_ls.lsp import protocol
from agent_ls.lsp.params import plain
from agent_ls.sessions import layout

CONTEXT_WINDOW = 200_000  # the server's default; the chat does not change it

NEXT = "\n" + " " * 18  # a long usage: its meaning on the next line, aligned
COMMANDS: dict[str, str] = {
    "new": "/new [name]       start a new session",
    "clear": "/clear            a fresh conversation in this session (the old one is kept)",
    "sessions": f"/sessions [text] [#tag]{NEXT}list sessions (and pick one on a terminal)",
    "search": "/search TEXT      search every session's messages; pick a hit to go there",
    "tag": f"/tag [NAME…] [-NAME…]{NEXT}this session's tags: add some, remove some",
    "export": f"/export [markdown|html|jsonl|bundle] [PATH]{NEXT}write this session to a file",
    "resume": "/resume N|ID|NAME continue a session (N from /sessions; an id prefix works)",
    "rename": "/rename NAME      name this session",
    "fork": "/fork             continue in a copy of this session",
    "delete": "/delete           move this session to the trash",
    "checkpoints": "/checkpoints      this session's checkpoints",
    "diff": "/diff [N]         what turn N changed (default: the last)",
    "revert": "/revert [N]       put back the files turn N changed (default: the last)",
    "undo": "/undo             undo the last revert or rewind",
    "rewind": f"/rewind [N [both|conversation|files]]{NEXT}back to just before prompt N",
    "retry": "/retry            send the last prompt again after it failed or was cancelled",
    "review": "/review on|off    show each edit's diff and ask before it is written",
    "compact": "/compact          summarise the older turns now, to free context",
    "model": "/model [NAME]     show the model, or restart the server on another",
    "permissions": "/permissions [revoke N]"
    f"{NEXT}the remembered 'always' answers; revoke N forgets one",
    "copy": "/copy [print]     copy the last reply (raw markdown), or print it",
    "thinking": "/thinking [on|off]"
    f"{NEXT}the last reply's thinking in full; on or off: unfold it always or not",
    "help": "/help             this text",
    "quit": "/quit             leave (also /exit, Ctrl-D, or Ctrl-C twice)",
}
ALIASES = {"exit": "quit", "q": "quit", "switch": "resume"}

HELP_KEYS = """keys: Enter sends · Alt-Enter or Esc-Enter adds a line · Up/Down history
      Tab completes /commands and @path (the file goes to the agent as context)
      Esc Esc puts your last prompt back to edit: Enter sends it in its place
      Ctrl-C cancels a reply or clears the line · Ctrl-D quits
permission questions take yes, no, always (y/n/a) or "no, because …" (the reason goes to
the agent)"""

NO_KEY = """No API key is set, so the agent cannot answer yet. Either:
  export ANTHROPIC_API_KEY=sk-ant-…            (a key from the Anthropic console)
or use a local model that speaks the Anthropic API, e.g. Ollama:
  export ANTHROPIC_BASE_URL=http://localhost:11434 ANTHROPIC_API_KEY=ollama
  export AGENT_LS_MODEL=qwen3-coder
Sessions can still be browsed (/sessions, /resume, /checkpoints, /diff)."""

ANSWERS = {
    "y": "allow_once",
    "yes": "allow_once",
    "a": "allow_always",
    "always": "allow_always",
    "n": "reject_once",
    "no": "reject_once",
    "never": "reject_always",
}


def parse_answer(text: str) -> tuple[str | None, str]:
    """A permission answer as (option kind, reason); kind None when it is not an answer."""
    text = text.strip()
    head, _, rest = text.replace(",", " ", 1).replace(":", " ", 1).partition(" ")
    word = head if head == "N" else head.lower()
    kind = ANSWERS.get("never" if word == "N" else word)
    if kind is None:
        return None, ""
    reason = rest.strip()
    if reason and not kind.startswith("reject"):
        return None, ""
    if reason.lower().startswith("because"):
        reason = reason[len("because") :].strip(" ,:")
    return kind, reason


class Chat:
    """One terminal conversation with one server process."""

    def __init__(self, workspace: Path, console: Console | None = None) -> None:
        self.workspace = workspace
        self.console = console or Console(markup=False, highlight=False)
        self.client = self._client()
        self.model_option: str | None = None
        self.review = False  # edits ask first, with their diff
        self.session: dict[str, Any] | None = None
        self.listed: list[dict[str, Any]] = []
        self.turn: asyncio.Task[Any] | None = None
        self.view: TurnView | None = None
        self.last_reply = ""
        self.last_thoughts: list[str] = []
        self.last_prompt = ("", "")  # (entry id, text) of the last prompt, for Esc-Esc
        self.expand_thinking = False
        self.costs: list[float | None] = []  # per API request of the running turn
        self.last_undo: tuple[str, str] | None = None  # (undo checkpoint id, scope)
        self.reasons: list[str] = []
        self.model = ""
        self.context = 0
        self._files: list[str] | None = None
        store_dir = layout.ensure_dir(
            layout.workspace_dir(layout.store_root(), workspace), below=layout.store_root()
        )
        completer = ChatCompleter([*COMMANDS, *ALIASES], self.files)
        self.keyboard = Keyboard(history_file(store_dir), completer, lambda: self.last_prompt[1])

    def files(self) -> list[str]:
        if self._files is None:
            self._files = workspace_files(self.workspace)
        return self._files

    # -- output --------------------------------------------------------------------------------

    def say(self, text: str | Text, style: str = "") -> None:
        self.console.print(text, style=style, soft_wrap=True)

    # -- server → client -------------------------------------------------------------------------

    def _client(self) -> LanguageClient:
        client = LanguageClient("agent-ls-chat", __version__)

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
            self.say(params.message, "yellow")

        return client

    def show_update(self, update: dict[str, Any]) -> None:
        kind = update.get("kind")
        view = self.view
        if kind == "usage":
            usage = update.get("usage") or {}
            self.model = str(update.get("model") or self.model)
            self.context = sum(
                int(usage.get(k) or 0)
                for k in ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
            )
            self.costs.append(request_cost(usage, self.model))
        if kind == "user_message":
            typed = self.last_prompt[1] or prompt_text(update.get("content") or [])
            self.last_prompt = (str(update.get("entryId")), typed)
        if view is None:
            return
        if kind == "usage":
            view.status.reported(int((update.get("usage") or {}).get("outputTokens") or 0))
        if kind == "agent_message_chunk":
            view.text(update["content"]["text"])
        elif kind == "agent_thought_chunk":
            view.think(update["content"]["text"])
        elif kind == "tool_call":
            view.tool_call(update)
        elif kind == "tool_call_update":
            view.tool_update(update)
        elif kind == "checkpoint":
            view.checkpoint(update["checkpoint"])

    async def ask_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        """Ask in words; Ctrl-C rejects and cancels the turn."""
        call = params["toolCall"]
        options = params["options"]
        by_kind = {o["kind"]: str(o["optionId"]) for o in options}
        reject = by_kind.get("reject_once") or str(options[-1]["optionId"])
        if self.view is not None:
            self.view.pause()
        command = (call.get("rawInput") or {}).get("command")
        diffs = [c for c in call.get("content") or [] if c.get("type") == "diff"]
        if isinstance(command, str):  # the whole command, never the title's shortened one
            self.say("The agent wants to run this command:", "yellow")
            self.say(command)
        elif diffs:  # an edit under review: nothing is written before a yes
            self.say(f"The agent wants to: {call.get('title')} (nothing written yet)", "yellow")
            for d in diffs:
                self.say(diff_text(self.rel(d["path"]), d.get("oldText"), d.get("newText")))
        else:
            self.say(f"The agent wants to: {call.get('title')}", "yellow")
        words = {"allow_once": "yes", "allow_always": "always", "reject_once": "no"}
        menu = " / ".join(  # in the server's order
            f"{words[o['kind']]} ({words[o['kind']][0]})" for o in options if o["kind"] in words
        )
        try:
            while True:
                answer = await self.keyboard.ask(f"{menu} / no, because … > ")
                kind, reason = parse_answer(answer)
                if kind in by_kind or (kind is None and not answer.strip()):
                    break
                self.say("Answer yes, no, always, or no, because <reason>.", "yellow")
        except Interrupted:
            self.say("Rejected; the turn is cancelled.", "yellow")
            self.cancel()
            return {"outcome": {"outcome": "selected", "optionId": reject}}
        finally:
            if self.view is not None:
                self.view.start()
        if kind is None:  # end of input or an empty answer: no
            kind = "reject_once"
        if reason:
            self.reasons.append(reason)
            self.say("The reason goes to the agent when this turn ends.", "dim")
        return {"outcome": {"outcome": "selected", "optionId": by_kind.get(kind, reject)}}

    # -- client → server -------------------------------------------------------------------------

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        return plain(await self.client.protocol.send_request_async(method, params))

    async def connect(self) -> None:
        log_dir = layout.store_root() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env, secret_fd = secrets.handoff_env(os.environ)  # the key by pipe, not environment
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
        options: dict[str, Any] = {"permissionUi": True}
        if self.model_option:
            options["model"] = self.model_option
        if self.review:
            options["permissionPolicy"] = {"edit": "ask"}
        await self.client.initialize_async(
            lsp.InitializeParams(
                process_id=os.getpid(),
                capabilities=lsp.ClientCapabilities(),
                workspace_folders=[folder],
                root_uri=folder.uri,
                initialization_options=options,
            )
        )
        self.client.initialized(lsp.InitializedParams())

    async def start(self, session_id: str | None, new: bool) -> None:
        await self.connect()
        if new:
            await self.new_session("")
        elif session_id:
            await self.resume(session_id)
        else:
            await self.show_transcript(await self.request(protocol.SESSION_RESUME_RECENT, {}))

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.shutdown_async(None), 3)
            self.client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.stop(), 3)

    async def new_session(self, name: str) -> None:
        self.session = await self.request(protocol.SESSION_NEW, {"name": name} if name else {})
        self.say(f"New session {self.session['sessionId']}", "bold")

    async def show_transcript(self, page: dict[str, Any]) -> None:
        """A session's last page; a search hit's entry (``focusEntryId``) marked."""
        self.session = page["session"]
        title = self.session.get("name") or self.session.get("firstMessage") or "(new session)"
        self.say(f"── {title} ── {self.session['sessionId']}", "bold")
        if page.get("hasMore"):
            self.say("… earlier messages not shown", "dim")
        view = TurnView(self.console, self.workspace, self.expand_thinking)
        for item in page["items"]:
            if item["entryId"] == page.get("focusEntryId"):
                view.flush()
                self.say("▶ the search hit:", "bold magenta")
            self.show_item(item, view)
        view.flush()
        self.last_thoughts = view.thoughts

    def show_item(self, item: dict[str, Any], view: TurnView) -> None:
        """A stored item drawn as it was live: tool lines with their marks and command tails,
        thinking folded, a failed or cancelled turn's marker."""
        kind = item["kind"]
        if kind == "user":
            view.flush()
            view.thoughts = []  # /thinking shows the last reply's
            text = prompt_text(item["content"])
            self.last_prompt = (str(item["entryId"]), text)
            self.say(Text.assemble(("you> ", "bold blue"), text))
        elif kind == "assistant":
            for call in item.get("toolCalls", []):
                view.tool_call(call)  # its line is drawn with its result
            for block in item["content"]:
                if block.get("type") == "text":
                    view.text(block["text"] + "\n\n")
                elif block.get("type") == "thinking":
                    view.think(block.get("thinking", ""))
        elif kind == "tool":
            for block in item["content"]:
                if block.get("type") == "tool_result":
                    view.tool_update(result_update(block))
        elif kind == "checkpoint":
            view.checkpoint(item)
        elif kind == "turn_end":
            view.flush()
            self.say(turn_end_marker(item["stopReason"], item.get("error")))

    async def prompt(self, text: str, replace_entry_id: str | None = None) -> None:
        """Send a prompt; with ``replace_entry_id`` it takes that earlier prompt's place."""
        params: dict[str, Any] = {"prompt": text}
        if self.session:
            params["sessionId"] = self.session["sessionId"]
        if replace_entry_id:
            params["replaceEntryId"] = replace_entry_id
        attached = mentioned(self.workspace, text)
        if attached:
            params["context"] = [{"uri": p.as_uri()} for p in attached]
            names = ", ".join(str(p.relative_to(self.workspace)) for p in attached)
            self.say(f"attached: {names}", "dim")
        self.last_prompt = ("", text)  # its entry id arrives with the user_message update
        await self.run_turn(protocol.SESSION_PROMPT, params)

    async def run_turn(self, method: str, params: dict[str, Any]) -> None:
        """One turn, streamed: a prompt or a retry (they answer alike)."""
        loop = asyncio.get_running_loop()
        self.view = view = TurnView(self.console, self.workspace, self.expand_thinking)
        self.costs = []
        self.turn = asyncio.ensure_future(self.request(method, params))
        loop.add_signal_handler(signal.SIGINT, self.cancel)
        view.start()
        try:
            result = await self.turn
        except Exception as exc:
            view.stop()
            self.say(f"error: {exc}", "red")
            return
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            view.stop()
            self.turn = None
            self.view = None
        if view.reply:
            self.last_reply = view.reply
        self.last_thoughts = view.thoughts
        self.session = {**(self.session or {}), "sessionId": result.get("sessionId")}
        reason = result.get("stopReason")
        if reason in TURN_ENDS:
            self.say(turn_end_marker(reason, result.get("error")))
        elif reason == "max_tokens":
            self.say("(stopped: the reply reached max tokens)", "yellow")
        usage = result.get("usage") or {}
        if usage:
            priced = self.costs and None not in self.costs
            cost = sum(c for c in self.costs if c is not None) if priced else None
            self.say(usage_line(usage, self.context, CONTEXT_WINDOW, self.model, cost))
        if self.reasons and reason != "cancelled":
            said = "; ".join(self.reasons)
            self.reasons = []
            await self.prompt(f"I said no to that tool call because: {said}")
        self.reasons = []

    def cancel(self) -> None:
        if self.session and self.turn:
            self.client.protocol.notify(
                protocol.SESSION_CANCEL, {"sessionId": self.session["sessionId"]}
            )

    # -- commands --------------------------------------------------------------------------------

    async def command(self, line: str) -> bool:
        """Run one /command; False to quit."""
        name, _, arg = line[1:].partition(" ")
        name = ALIASES.get(name, name)
        arg = arg.strip()
        if name == "quit":
            return False
        handler: Callable[[str], Awaitable[None]] | None = getattr(self, f"cmd_{name}", None)
        if name not in COMMANDS or handler is None:
            self.say(f"{line.split()[0]} is not a command; /help lists them.", "red")
            return True
        await handler(arg)
        return True

    def sid(self) -> str:
        if not self.session or not self.session.get("sessionId"):
            raise LookupError("no session yet: send a prompt or /resume one first")
        return str(self.session["sessionId"])

    async def cmd_help(self, arg: str) -> None:
        self.say("\n".join(COMMANDS.values()))
        self.say(HELP_KEYS, "dim")

    async def cmd_new(self, arg: str) -> None:
        await self.new_session(arg)

    async def cmd_clear(self, arg: str) -> None:
        if not self.session or not self.session.get("sessionId"):
            await self.new_session("")
            return
        await self.show_transcript(
            await self.request(protocol.SESSION_RESET, {"sessionId": self.sid()})
        )
        self.last_prompt = ("", "")
        self.say("The old conversation is kept as a branch of this session: /search finds it.")

    async def cmd_sessions(self, arg: str) -> None:
        params: dict[str, Any] = {"limit": 30}
        words = arg.split()
        tags = [w[1:] for w in words if w.startswith("#") and len(w) > 1]
        query = " ".join(w for w in words if not w.startswith("#"))
        if query:
            params["query"] = query
        if tags:
            params["tags"] = tags
        self.listed = (await self.request(protocol.SESSION_LIST, params))["sessions"]
        if not self.listed:
            self.say("no sessions match" if arg else "no sessions yet")
            return
        choices = []
        for n, info in enumerate(self.listed, 1):
            title = " ".join((info.get("name") or info.get("firstMessage") or "(empty)").split())
            mark = "*" if info.get("active") else " "
            meta = f"{info['messageCount']} msgs, {age(info['modifiedAt'])}"
            meta += "".join(f" #{tag}" for tag in info.get("tags") or [])
            self.say(Text.assemble(f"{mark}{n:3}. {title[:60]:60} ", (meta, "dim")))
            choices.append(f"{n}. {title[:60]}")
        picked = await self.keyboard.pick(
            "resume (type to search, Enter picks or skips) > ", choices
        )
        number = pick_number(picked, choices)
        if number:
            await self.cmd_resume(str(number))

    async def cmd_resume(self, arg: str) -> None:
        if not arg:
            raise LookupError("/resume N, an id (or its start) or a name; /sessions lists them")
        await self.resume(await self.find_session(arg))

    async def find_session(self, arg: str) -> str:
        if arg.isdigit() and 0 < int(arg) <= len(self.listed):
            return str(self.listed[int(arg) - 1]["sessionId"])
        sessions = (await self.request(protocol.SESSION_LIST, {"limit": 1000}))["sessions"]
        for info in sessions:
            if info["sessionId"] == arg or info.get("name") == arg:
                return str(info["sessionId"])
        found = [s for s in sessions if str(s["sessionId"]).startswith(arg)]
        if len(found) == 1:
            return str(found[0]["sessionId"])
        if found:
            raise LookupError(f"{arg} starts {len(found)} session ids; type more of it")
        raise LookupError(f"no session {arg}; /sessions lists them")

    async def resume(self, session_id: str) -> None:
        await self.show_transcript(
            await self.request(protocol.SESSION_SWITCH, {"sessionId": session_id})
        )

    async def cmd_rename(self, arg: str) -> None:
        if not arg:
            raise LookupError("/rename NAME")
        self.session = await self.request(
            protocol.SESSION_RENAME, {"sessionId": self.sid(), "name": arg}
        )
        self.say(f"Renamed to {arg}")

    async def cmd_fork(self, arg: str) -> None:
        fork = await self.request(protocol.SESSION_FORK, {"sessionId": self.sid()})
        await self.resume(fork["sessionId"])

    async def cmd_delete(self, arg: str) -> None:
        await self.request(protocol.SESSION_DELETE, {"sessionId": self.sid()})
        self.say("Moved to the trash (agent-ls sessions undelete ID brings it back).")
        await self.new_session("")

    async def _checkpoints(self) -> list[dict[str, Any]]:
        result = await self.request(protocol.CHECKPOINT_LIST, {"sessionId": self.sid()})
        return [c for c in result["checkpoints"] if c.get("kind", "turn") == "turn"]

    async def checkpoint_at(self, arg: str) -> dict[str, Any] | None:
        checkpoints = await self._checkpoints()
        if not checkpoints:
            self.say("no checkpoints in this session")
            return None
        index = int(arg) - 1 if arg.isdigit() else len(checkpoints) - 1
        if (arg and not arg.isdigit()) or not 0 <= index < len(checkpoints):
            raise LookupError(
                f"no checkpoint {arg}: /checkpoints numbers them 1-{len(checkpoints)}"
            )
        return checkpoints[index]

    async def cmd_checkpoints(self, arg: str) -> None:
        checkpoints = await self._checkpoints()
        for n, cp in enumerate(checkpoints, 1):
            files = ", ".join(f"{f['operation']} {f['path']}" for f in cp["files"])
            self.say(f"{n:3}. {' '.join(cp['prompt'].split())[:50]:50} {files}")
        if not checkpoints:
            self.say("no checkpoints in this session")

    async def cmd_diff(self, arg: str) -> None:
        checkpoint = await self.checkpoint_at(arg)
        if checkpoint is None:
            return
        result = await self.request(
            protocol.CHECKPOINT_DIFF, {"checkpointId": checkpoint["checkpointId"]}
        )
        for f in result["files"]:
            if f.get("diff"):
                self.say(color_diff(f["diff"]))
            elif f.get("before") is not None or f.get("after") is not None:
                self.say(diff_text(f["path"], f.get("before"), f.get("after")))
            else:
                self.say(f"  {f['operation']} {f['path']} (binary)")

    cmd_revert = restoring.revert
    cmd_undo = restoring.undo
    cmd_rewind = restoring.rewind

    def rel(self, path: str) -> str:
        with contextlib.suppress(ValueError):
            return str(Path(path).relative_to(self.workspace))
        return path

    async def cmd_retry(self, arg: str) -> None:
        """Send the last turn's prompt again when it failed or was cancelled."""
        self.last_prompt = ("", "")  # the resent prompt arrives with the user_message update
        await self.run_turn(protocol.SESSION_RETRY, {"sessionId": self.sid()})

    async def cmd_review(self, arg: str) -> None:
        """/review on|off: ask before each edit, showing its diff (restarts the server)."""
        if arg not in ("on", "off"):
            state = "on" if self.review else "off"
            self.say(f"review is {state}: /review on shows each edit's diff and asks first")
            return
        self.review = arg == "on"
        await self.restart()
        self.say("Edits wait for your yes, with their diff." if self.review else "Edits apply.")

    async def cmd_compact(self, arg: str) -> None:
        """Summarise the older turns now (the server also does it when the context is 80% full)."""
        self.say("Summarising the older turns…", "dim")
        done = await self.request(protocol.SESSION_COMPACT, {"sessionId": self.sid()})
        if not done["compacted"]:
            self.say("Nothing to compact: the conversation is short enough already.")
            return
        tokens = done.get("tokensBefore")
        was = f" (it was about {tokens:,} tokens)" if tokens else ""
        self.say(f"Compacted: the older turns are now a summary{was}; the latest ones are kept.")

    async def cmd_model(self, arg: str) -> None:
        if not arg:
            shown = self.model or self.model_option or os.environ.get("AGENT_LS_MODEL")
            self.say(f"model: {shown or 'the server default'} (/model NAME switches)")
            return
        self.model_option = arg
        await self.restart()
        self.model = arg
        self.say(f"Now using {arg}.")

    async def restart(self) -> None:
        """A new server with the chat's options, on the same session."""
        sid = self.session.get("sessionId") if self.session else None
        await self.stop()
        self.client = self._client()
        await self.connect()
        if sid:
            await self.resume(str(sid))

    async def cmd_permissions(self, arg: str) -> None:
        """/permissions lists the remembered answers; /permissions revoke N forgets one."""
        sid = self.sid()
        rules = (await self.request(protocol.PERMISSIONS_LIST, {"sessionId": sid}))["rules"]
        words = arg.split()
        if words[:1] == ["revoke"]:
            if len(words) != 2 or not words[1].isdigit() or not 0 < int(words[1]) <= len(rules):
                self.say(f"/permissions revoke N, with N from 1 to {len(rules)}")
                return
            rule = rules[int(words[1]) - 1]
            revoke = {"sessionId": sid, "ruleId": rule["ruleId"]}
            await self.request(protocol.PERMISSIONS_REVOKE, revoke)
            self.say(f"Revoked: {rule['description']}")
            return
        if not rules:
            self.say("No remembered permissions in this session.")
            return
        for number, rule in enumerate(rules, 1):
            self.say(f"{number}. {rule['description']}")
        self.say("/permissions revoke N forgets one: the agent asks again next time.")

    async def cmd_copy(self, arg: str) -> None:
        """The raw markdown of the last reply: to the clipboard via OSC 52, or printed."""
        if not self.last_reply:
            self.say("nothing to copy yet")
        elif arg == "print" or not self.console.is_terminal:
            self.console.out(self.last_reply, highlight=False)
        else:
            data = base64.b64encode(self.last_reply.encode()).decode()
            self.console.file.write(f"\033]52;c;{data}\a")
            self.console.file.flush()
            self.say(
                f"Copied {len(self.last_reply)} characters to the clipboard (OSC 52); "
                "/copy print shows them if your terminal does not allow that."
            )

    async def cmd_thinking(self, arg: str) -> None:
        """Thinking is folded to one line; this unfolds the last reply's, or all from now on."""
        if arg in ("on", "off"):
            self.expand_thinking = arg == "on"
            self.say(f"Thinking is {'shown in full' if self.expand_thinking else 'folded'}.")
        elif arg:
            raise LookupError("/thinking, /thinking on or /thinking off")
        elif not self.last_thoughts:
            self.say("The last reply had no thinking.")
        else:
            self.say(Text("\n\n".join(self.last_thoughts), style="dim italic"))

    cmd_search = finding.search
    cmd_tag = finding.tag
    cmd_export = finding.export

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            name = (self.session or {}).get("name") or ""
            line = await self.keyboard.line(f"{name}> " if name else "> ")
            if line is None:
                return
            if not line.strip():
                continue
            try:
                if line.startswith("/"):
                    if not await self.command(line.strip()):
                        return
                elif self.keyboard.editing and self.last_prompt[0]:
                    await self.prompt(line.strip("\n"), replace_entry_id=self.last_prompt[0])
                else:
                    await self.prompt(line.strip("\n"))
            except LookupError as exc:
                self.say(str(exc), "red")
            except Exception as exc:  # a refused request must not end the chat
                self.say(f"error: {exc}", "red")
