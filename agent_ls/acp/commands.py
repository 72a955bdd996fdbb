"""Slash commands: rewind and checkpoints, which ACP itself lacks, export, and session chores.

The client sends them as the prompt text ("/rewind 2 both"); they answer as an agent message in
the transcript and never reach the model. Messages and checkpoints are numbered newest first:
1 is the last. A rewind or revert is all or nothing, as on the LSP door: when a file conflicts it
changes nothing and answers the plan, with the `partial` and `force` commands that go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acp.schema import (
    AvailableCommand,
    AvailableCommandInput,
    SessionInfoUpdate,
    TextContentBlock,
    UnstructuredCommandInput,
)

from agent_ls.carry import FORMATS, Format
from agent_ls.carry.errors import CarryError
from agent_ls.checkpoints.entries import file_records, is_checkpoint
from agent_ls.checkpoints.history import Entry, prompt_text
from agent_ls.checkpoints.listing import CheckpointSummary
from agent_ls.checkpoints.restore import SCOPES, Scope
from agent_ls.core.checkpoints import RestoreReport
from agent_ls.core.rewind import rewind as rewind_to
from agent_ls.sessions.store import list_all_workspaces

if TYPE_CHECKING:
    from agent_ls.acp.agent import AcpAgent, OpenSession

SESSIONS_SHOWN = 20
SEARCH_SHOWN = 10
FIRST_LINE = 80
REWIND_USAGE = "/rewind [N] [files|conversation|both] [partial|force]"
REVERT_USAGE = "/revert [N] [files|conversation|both] [partial|force]"


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str]
    text: str  # everything after the name, as typed
    turn: bool = False  # a turn for the model (retry): the agent runs it as a prompt


@dataclass(frozen=True)
class Spec:
    description: str
    hint: str | None
    run: Callable[[AcpAgent, OpenSession, Command], Awaitable[str]]


def parse(prompt: list[Any]) -> Command | None:
    """The command a prompt is, or None for a prompt for the model."""
    if len(prompt) != 1 or not isinstance(prompt[0], TextContentBlock):
        return None
    text = prompt[0].text.strip()
    if not text.startswith("/"):
        return None
    name, _, rest = text[1:].partition(" ")
    if name not in COMMANDS and name not in TURNS:
        return None
    return Command(name, rest.split(), rest.strip(), turn=name in TURNS)


def available() -> list[AvailableCommand]:
    answered = [
        AvailableCommand(
            name=name,
            description=spec.description,
            input=None
            if spec.hint is None
            else AvailableCommandInput(root=UnstructuredCommandInput(hint=spec.hint)),
        )
        for name, spec in COMMANDS.items()
    ]
    turns = [AvailableCommand(name=name, description=d) for name, d in TURNS.items()]
    return answered + turns


async def run(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    return await COMMANDS[command.name].run(agent, session, command)


# -- checkpoints and rewind --------------------------------------------------------------------

NO_CHECKPOINTS = "No checkpoints yet: a turn that changes files records one."
CHOICES = ("partial", "force")


@dataclass(frozen=True)
class Request:
    """A revert's arguments: what to revert (`number`), how far, and how to settle conflicts."""

    number: str | None
    scope: Scope | None
    choice: str | None  # "partial", "force" or None: all or nothing


def _request(args: list[str]) -> Request | None:
    """`[N] [files|conversation|both] [partial|force]` in any order, or None when it is not."""
    numbers = [a for a in args if a not in SCOPES and a not in CHOICES]
    scopes = [a for a in args if a in SCOPES]
    choices = [a for a in args if a in CHOICES]
    if len(numbers) > 1 or len(scopes) > 1 or len(choices) > 1:
        return None
    return Request(
        numbers[0] if numbers else None,
        scopes[0] if scopes else None,  # type: ignore[arg-type]
        choices[0] if choices else None,
    )


def _newest_first(session: OpenSession) -> list[CheckpointSummary]:
    return list(reversed(session.service.checkpoints.list(session.session_id)))


def _number(raw: str | None, count: int, what: str, listing: str) -> int | str:
    """`raw` as 1..count (default 1), or a sentence saying why it is not."""
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= count:
        return f"`{raw}` is not a {what} number: use 1 to {count} (see {listing})."
    return int(raw)


def _pick(session: OpenSession, raw: str | None) -> tuple[int, CheckpointSummary] | str:
    """Checkpoint `raw` (1 = newest), or a sentence saying why there is none."""
    found = _newest_first(session)
    if not found:
        return NO_CHECKPOINTS
    number = _number(raw, len(found), "checkpoint", "/checkpoints")
    return number if isinstance(number, str) else (number, found[number - 1])


def _files(summary: CheckpointSummary) -> str:
    return ", ".join(f"{f.path} ({f.operation})" for f in summary.files) or "no files"


def _first_line(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "(no text)")
    return line if len(line) <= FIRST_LINE else line[: FIRST_LINE - 1] + "…"


async def checkpoints(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    found = _newest_first(session)
    if not found:
        return NO_CHECKPOINTS
    lines = ["Checkpoints, newest first (`/diff N` shows one, `/revert N` reverts to before it):"]
    for number, summary in enumerate(found, start=1):
        prompt = " ".join(summary.prompt.split())[:60]
        state = "" if summary.active else " (off the active path)"
        conflicts = [f.path for f in summary.files if f.conflict]
        changed = f"; changed since: {', '.join(conflicts)}" if conflicts else ""
        lines.append(
            f"{number}. {summary.created_at} [{summary.kind}] “{prompt}” — "
            f"{_files(summary)}{state}{changed}"
        )
    return "\n".join(lines)


async def diff(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    picked = _pick(session, command.args[0] if command.args else None)
    if isinstance(picked, str):
        return picked
    number, summary = picked
    diffs = session.service.checkpoints.diff(session.session_id, summary.checkpoint_id, None)
    parts = [f"Checkpoint {number} ({summary.created_at}):"]
    for file in diffs:
        parts.append(f"```diff\n{file.diff.rstrip() or f'(no text diff for {file.path})'}\n```")
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Message:
    """A user message on the active path, and how many files the turns after it changed."""

    entry: Entry
    files_after: int


def _user_messages(session: OpenSession) -> list[Message]:
    """The user messages (prompts) on the active path, newest first. Blocking: a thread's."""
    path = session.store.load(session.session_id).path()
    messages: list[Message] = []
    changed: set[str] = set()
    for entry in reversed(path):
        if is_checkpoint(entry):
            changed.update(f["path"] for f in file_records(entry))
        elif entry.get("type") == "message" and entry.get("role") == "user":
            messages.append(Message(entry, len(changed)))
    return messages


def _listed(number: int, message: Message) -> str:
    files = message.files_after
    changes = f" — files changed since: {files}" if files else ""
    text = _first_line(prompt_text(message.entry))
    return f"{number}. {message.entry.get('ts', '')} “{text}”{changes}"


async def rewind(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """List the user messages, or rewind to just before message N: files, conversation or both."""
    request = _request(command.args)
    if request is None:
        return f"Usage: {REWIND_USAGE}"
    messages = await asyncio.to_thread(_user_messages, session)
    if not messages:
        return "No messages yet: there is nothing to rewind to."
    if request.number is None:
        if request.scope or request.choice:
            return f"Usage: {REWIND_USAGE} (name the message: `/rewind` lists them)"
        lines = ["Your messages, newest first (`/rewind N` goes back to just before N):"]
        lines += [_listed(n, m) for n, m in enumerate(messages, start=1)]
        return "\n".join(lines)
    number = _number(request.number, len(messages), "message", "/rewind")
    if isinstance(number, str):
        return number
    scope: Scope = request.scope or "both"
    report = await rewind_to(
        session.service.checkpoints,
        session.session_id,
        str(messages[number - 1].entry["id"]),
        scope=scope,
        force=request.choice == "force",
        partial=request.choice == "partial",
    )
    done = f"Rewound to just before message {number} ({scope})."
    if report.moved_conversation:
        done += (
            " The model no longer sees that message or anything after it; your client may still"
            " show them (they stay in the session as a branch)."
        )
    return _reported(report, done, f"/rewind {number} {scope}")


async def revert(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Revert checkpoint N and every later one: files, the conversation, or both."""
    request = _request(command.args)
    if request is None:
        return f"Usage: {REVERT_USAGE}"
    picked = _pick(session, request.number)
    if isinstance(picked, str):
        return picked
    number, summary = picked
    scope: Scope = request.scope or "files"
    report = await session.service.checkpoints.restore(
        session.session_id,
        summary.checkpoint_id,
        scope=scope,
        dry_run=False,
        force=request.choice == "force",
        partial=request.choice == "partial",
    )
    done = f"Reverted checkpoint {number} and later ({scope})."
    return _reported(report, done, f"/revert {number} {scope}")


async def undo(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Put back what the last rewind, revert or undo changed: its files, and the conversation
    when that moved it."""
    request = _request(command.args)
    if request is None or request.number is not None or request.scope is not None:
        return "Usage: /undo [partial|force]"
    found = [s for s in _newest_first(session) if s.kind == "undo"]
    if not found:
        return (
            "Nothing to undo: /undo puts back what the last /rewind or /revert changed "
            "(`/revert 1` reverts the last turn's edits)."
        )
    summary = found[0]
    scope: Scope = "both" if summary.moved_conversation else "files"
    report = await session.service.checkpoints.restore(
        session.session_id,
        summary.checkpoint_id,
        scope=scope,
        dry_run=False,
        force=request.choice == "force",
        partial=request.choice == "partial",
    )
    return _reported(report, "Undid the last rewind or revert.", "/undo")


DONE = {"merged": "merged (your edits kept)", "skipped": "skipped (it conflicts)"}
PLANNED = {"restored": "would be restored", "merged": "would be merged (your edits kept)"}


def _file_lines(report: RestoreReport, words: dict[str, str]) -> list[str]:
    return [
        f"- {f.path}: {words.get(f.result, f.result)}{f': {f.reason}' if f.reason else ''}"
        for f in report.files
    ]


def _reported(report: RestoreReport, done: str, again: str) -> str:
    """What a revert did, or the plan it refused with how to go on (all or nothing)."""
    if report.applied:
        tail = ["`/undo` puts it back."] if report.undo_entry_id else []
        return "\n".join([done, *_file_lines(report, DONE), *tail])
    conflicts = [f for f in report.files if f.result == "conflict"]
    if not conflicts:
        return "Nothing to change: the files are already as asked."
    return "\n".join(
        [
            f"Nothing was changed: {len(conflicts)} of {len(report.files)} files conflict "
            "(edited since in a way that overlaps the agent's changes). The plan:",
            *_file_lines(report, PLANNED),
            f"`{again} partial` applies the rest and leaves the conflicting files as they are; "
            f"`{again} force` overwrites them too.",
        ]
    )


async def export(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """The transcript as text here, or written to PATH (relative to the session's folder)."""
    from agent_ls.carry import requests as carry  # the exporters: imported when first used

    fmt: Format = "markdown"
    where = command.text
    if command.args and command.args[0] in FORMATS:
        fmt = command.args[0]  # type: ignore[assignment]
        where = where[len(fmt) :].strip()
    path = str(session.cwd / Path(where).expanduser()) if where else None
    if fmt == "bundle" and path is None:
        example = f"/export bundle {session.session_id}.tar"
        return f"A bundle is binary: give a file to write it to, as in `{example}`."
    try:
        done = await asyncio.to_thread(
            carry.export, session.service.sessions, session.session_id, fmt, path, False
        )
    except CarryError as exc:
        return f"Nothing was exported: {exc}."
    if path is None:
        return str(done["content"])
    return f"Exported this session ({fmt}) to {done['path']} ({done['bytes']} bytes)."


# -- sessions ----------------------------------------------------------------------------------


async def fork(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    info = session.service.sessions.fork(session.session_id, None)
    return (
        f"Forked this session into {info.session_id}. Open it from the session list to go on "
        "there; this one stays as it is."
    )


async def rename(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    if not command.text:
        return "Usage: /rename NEW NAME"
    info = session.service.sessions.rename(session.session_id, command.text)
    session.editor.send(
        SessionInfoUpdate(
            session_update="session_info_update", title=info.name, updated_at=info.modified_at
        )
    )
    return f"Renamed this session to “{info.name}”."


async def compact(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Summarize the older part of the conversation now, as a full context would."""
    if await session.service.prompting.compact(session.session_id) is None:
        return "Nothing to compact: the conversation is short enough already."
    return "Compacted: the older part of the conversation is now a summary."


async def sessions(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    infos, more = session.store.list(None, SESSIONS_SHOWN)
    if not infos:
        infos, more = list_all_workspaces(None, limit=SESSIONS_SHOWN)
    lines = [f"Sessions in {session.cwd}, newest first:"]
    for info in infos:
        here = " (this one)" if info.session_id == session.session_id else ""
        title = info.name or " ".join(info.first_message.split())[:60] or "(empty)"
        lines.append(f"- {info.session_id} {info.modified_at} “{title}”{here}")
    if more:
        lines.append("(more in the client's session list)")
    return "\n".join(lines)


def _marked(snippet: str, highlights: list[list[int]]) -> str:
    """The snippet with its highlighted ranges (UTF-16 offsets) in bold."""
    index, units = {0: 0}, 0
    for i, char in enumerate(snippet, start=1):
        units += 2 if ord(char) > 0xFFFF else 1
        index[units] = i
    out, at = [], 0
    for start, end in highlights:
        if start in index and end in index and index[start] >= at:
            out += [snippet[at : index[start]], f"**{snippet[index[start] : index[end]]}**"]
            at = index[end]
    return "".join([*out, snippet[at:]])


async def search(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Full-text search of this folder's sessions (`--all`: every workspace's), best first."""
    everywhere = command.args[:1] == ["--all"]
    query = command.text.removeprefix("--all").strip() if everywhere else command.text
    if not query:
        return "Usage: /search [--all] WORDS"
    hits, more = await asyncio.to_thread(
        session.service.sessions.search,
        query,
        workspace=None,
        all_workspaces=everywhere,
        limit=SEARCH_SHOWN,
        cursor=None,
    )
    if not hits:
        return f"Nothing matches “{query}”" + (
            "." if everywhere else " here (`--all` looks in every workspace)."
        )
    lines = [f"Matches for “{query}”, best first (open a session from your client's list):"]
    for number, hit in enumerate(hits, start=1):
        here = " (this one)" if hit.session_id == session.session_id else ""
        name = f"“{hit.session_name}” " if hit.session_name else ""
        where = f" in {hit.workspace}" if everywhere else ""
        lines.append(
            f"{number}. {name}{hit.session_id}{here}{where}, {hit.role}, {hit.ts}: "
            f"{_marked(hit.snippet, hit.highlights)}"
        )
    if more:
        lines.append(f"(only the best {SEARCH_SHOWN}: add words to narrow it)")
    return "\n".join(lines)


COMMANDS: dict[str, Spec] = {
    "checkpoints": Spec("List this session's checkpoints, newest first", None, checkpoints),
    "diff": Spec("Show what checkpoint N changed (1 = the last)", "N", diff),
    "rewind": Spec(
        "List your messages, or go back to just before message N (files, conversation or both)",
        "N files|conversation|both partial|force",
        rewind,
    ),
    "revert": Spec(
        "Revert checkpoint N and later (files, conversation or both)",
        "N files|conversation|both partial|force",
        revert,
    ),
    "undo": Spec("Put back what the last rewind or revert changed", "partial|force", undo),
    "export": Spec(
        "Export this session as markdown, html, jsonl or a bundle", "FORMAT PATH", export
    ),
    "fork": Spec("Copy this session into a new one to try another way", None, fork),
    "rename": Spec("Rename this session", "NEW NAME", rename),
    "compact": Spec("Summarize the older conversation to free context", None, compact),
    "sessions": Spec("List the sessions of this folder", None, sessions),
    "search": Spec(
        "Search the text of this folder's sessions (--all: every workspace)", "WORDS", search
    ),
}

TURNS: dict[str, str] = {
    "retry": "Send the last prompt again, after its turn failed or was cancelled",
}
"""Commands that are a turn for the model: the agent runs them as a prompt, streaming."""
