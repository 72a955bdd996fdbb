"""Reverts and rewinds as the terminal shows them: all or nothing, and the user picks.

The server applies nothing when a file conflicts and answers the plan; the chat shows it and
asks whether to restore the other files, overwrite all of them, or cancel. /revert, /undo and
/rewind live here; the chat (app.py) takes them as its commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from agent_ls.cli.chat.keyboard import Interrupted, pick_number
from agent_ls.cli.chat.render import prompt_text
from agent_ls.lsp import protocol

if TYPE_CHECKING:
    from agent_ls.cli.chat.app import Chat

CHOICE_QUESTION = "restore the others (o) / overwrite all (a) / cancel (c) > "
_CHOICES = {
    "o": "partial",
    "others": "partial",
    "restore the others": "partial",
    "a": "force",
    "all": "force",
    "overwrite all": "force",
    "c": "",
    "cancel": "",
    "": "",
}
SCOPE_QUESTION = (
    "rewind files and conversation (b), the conversation only (c), the files only (f) > "
)
_SCOPES = {
    "b": "both",
    "both": "both",
    "c": "conversation",
    "conversation": "conversation",
    "f": "files",
    "files": "files",
}
_STYLES = {
    "restored": "green",
    "merged": "green",
    "conflict": "red",
    "failed": "red",
    "skipped": "yellow",
    "unchanged": "dim",
}
_MEANINGS = {
    "restored": "put back",
    "merged": "put back, your later edits kept",
    "conflict": "you changed the same lines since",
    "skipped": "left as it is (it conflicts)",
    "unchanged": "already as it was",
    "failed": "could not be written",
}


def parse_choice(answer: str) -> str | None:
    """'partial', 'force', '' (cancel) or None when the answer is none of them."""
    return _CHOICES.get(answer.strip().lower())


def parse_scope(answer: str) -> str | None:
    """'both', 'conversation', 'files', or None (cancel or not a scope)."""
    return _SCOPES.get(answer.strip().lower())


def conflicts(result: dict[str, Any]) -> bool:
    """The server applied nothing because a file conflicts: the user must choose."""
    return not result.get("applied") and any(f["result"] == "conflict" for f in result["files"])


def file_lines(result: dict[str, Any], rel: Callable[[str], str] = str) -> Text:
    """One line per file: what happened (or would), coloured, and why."""
    shown = Text()
    for f in result["files"]:
        why = f.get("reason") or _MEANINGS.get(f["result"], "")
        shown.append(f"  {f['result']:9} ", style=_STYLES.get(f["result"], ""))
        shown.append(rel(f["path"]))
        if why:
            shown.append(f" ({why})", style="dim")
        shown.append("\n")
    shown.rstrip()
    return shown


async def revert(chat: Chat, arg: str) -> None:
    """/revert [N]: put back the files turn N changed."""
    checkpoint = await chat.checkpoint_at(arg)
    if checkpoint is None:
        return
    params = {"checkpointId": checkpoint["checkpointId"], "scope": "files"}
    if await all_or_nothing(chat, protocol.CHECKPOINT_RESTORE, params, "files"):
        chat.say("Reverted. /undo puts the files back.")


async def all_or_nothing(chat: Chat, method: str, params: dict[str, Any], scope: str) -> bool:
    """A restore or rewind: when a file conflicts the server changed nothing, so show the
    plan and let the user choose. True when something was applied."""
    result = await chat.request(method, params)
    if conflicts(result):
        chat.say("Nothing was changed: a file was edited since, in the lines to put back.")
        chat.say(file_lines(result, chat.rel))
        choice = None
        while choice is None:
            try:
                choice = parse_choice(await chat.keyboard.ask(CHOICE_QUESTION))
            except Interrupted:
                choice = ""
        if not choice:
            chat.say("Cancelled: nothing was changed.")
            return False
        result = await chat.request(method, {**params, choice: True})
    chat.say(file_lines(result, chat.rel))
    if result.get("undoCheckpointId"):
        chat.last_undo = (str(result["undoCheckpointId"]), scope)
    return bool(result.get("applied"))


async def undo(chat: Chat, arg: str) -> None:
    """/undo: put back what the last revert or rewind changed (its undo checkpoint)."""
    if not chat.last_undo:
        chat.say("nothing to undo")
        return
    (checkpoint_id, scope), chat.last_undo = chat.last_undo, None
    params = {"checkpointId": checkpoint_id, "scope": scope}
    if await all_or_nothing(chat, protocol.CHECKPOINT_RESTORE, params, scope):
        chat.say("Undone. /undo again redoes it.")
        if scope != "files":
            await chat.resume(chat.sid())


async def path_prompts(chat: Chat) -> list[tuple[str, str]]:
    """(entry id, text) of every prompt on the conversation's path, oldest first."""
    sid = chat.sid()
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"sessionId": sid, "limit": 200}
    while True:
        page = await chat.request(protocol.SESSION_HISTORY, params)
        items[:0] = page["items"]
        if not page.get("hasMore") or not page["items"]:
            break
        params["before"] = page["items"][0]["entryId"]
    return [(str(i["entryId"]), prompt_text(i["content"])) for i in items if i["kind"] == "user"]


async def rewind(chat: Chat, arg: str) -> None:
    """/rewind [N [scope]]: back to just before prompt N, files and/or conversation."""
    words = arg.split()
    prompts = await path_prompts(chat)
    if not prompts:
        chat.say("Nothing to rewind: this conversation has no prompts yet.")
        return
    choices = [f"{n}. {' '.join(text.split())[:70]}" for n, (_, text) in enumerate(prompts, 1)]
    if words and words[0].isdigit():
        number = pick_number(words[0], choices)
        if number is None:
            raise LookupError(f"no prompt {words[0]}: /rewind lists them 1-{len(prompts)}")
    else:
        for choice in choices:
            chat.say(choice)
        question = "rewind to just before which prompt (type to search, Enter cancels) > "
        number = pick_number(await chat.keyboard.pick(question, choices), choices)
    if number is None:
        chat.say("Cancelled.")
        return
    scope = parse_scope(words[1]) if len(words) > 1 else None
    if scope is None:
        try:
            scope = parse_scope(await chat.keyboard.ask(SCOPE_QUESTION))
        except Interrupted:
            scope = None
    if scope is None:
        chat.say("Cancelled.")
        return
    entry_id, text = prompts[number - 1]
    params = {"sessionId": chat.sid(), "entryId": entry_id, "scope": scope}
    if not await all_or_nothing(chat, protocol.SESSION_REWIND, params, scope):
        return
    hint = " /undo puts it all back." if chat.last_undo else ""
    if scope == "files":
        chat.say(f"The files are as they were before prompt {number}.{hint}")
        return
    chat.last_prompt = prompts[number - 2] if number > 1 else ("", "")
    chat.say(f"Rewound to just before prompt {number}; its text is in the input to edit.{hint}")
    chat.keyboard.prefill = text
