"""Slash commands: checkpoints and rewind, which ACP itself lacks, plus session chores.

The client sends them as the prompt text ("/rewind 2 both"); they answer as an agent message in
the transcript and never reach the model. Checkpoints are numbered newest first: 1 is the last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acp.schema import (
    AvailableCommand,
    AvailableCommandInput,
    SessionInfoUpdate,
    TextContentBlock,
    UnstructuredCommandInput,
)

from agent_ls.agent.compaction import maybe_compact
from agent_ls.checkpoints.listing import CheckpointSummary
from agent_ls.checkpoints.restore import SCOPES, Scope
from agent_ls.sessions.store import list_all_workspaces

if TYPE_CHECKING:
    from agent_ls.acp.agent import AcpAgent, OpenSession

SESSIONS_SHOWN = 20


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str]
    text: str  # everything after the name, as typed


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
    if name not in COMMANDS:
        return None
    return Command(name, rest.split(), rest.strip())


def available() -> list[AvailableCommand]:
    return [
        AvailableCommand(
            name=name,
            description=spec.description,
            input=None
            if spec.hint is None
            else AvailableCommandInput(root=UnstructuredCommandInput(hint=spec.hint)),
        )
        for name, spec in COMMANDS.items()
    ]


async def run(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    return await COMMANDS[command.name].run(agent, session, command)


# -- checkpoints -------------------------------------------------------------------------------


def _newest_first(session: OpenSession) -> list[CheckpointSummary]:
    return list(reversed(session.service.checkpoints.list(session.session_id)))


def _pick(session: OpenSession, raw: str | None) -> tuple[int, CheckpointSummary] | str:
    """Checkpoint `raw` (1 = newest), or a sentence saying why there is none."""
    found = _newest_first(session)
    if not found:
        return "No checkpoints yet: a turn that changes files records one."
    number = 1
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= len(found):
            return f"`{raw}` is not a checkpoint number: use 1 to {len(found)} (see /checkpoints)."
        number = int(raw)
    return number, found[number - 1]


def _files(summary: CheckpointSummary) -> str:
    return ", ".join(f"{f.path} ({f.operation})" for f in summary.files) or "no files"


async def checkpoints(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    found = _newest_first(session)
    if not found:
        return "No checkpoints yet: a turn that changes files records one."
    lines = ["Checkpoints, newest first (`/diff N` shows one, `/rewind N` reverts to before it):"]
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


async def rewind(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Revert checkpoint N and every later one: files, the conversation, or both."""
    args = list(command.args)
    scope: Scope = "files"
    if args and args[-1] in SCOPES:
        scope = args.pop()  # type: ignore[assignment]
    if len(args) > 1:
        return "Usage: /rewind [N] [files|conversation|both]"
    picked = _pick(session, args[0] if args else None)
    if isinstance(picked, str):
        return picked
    number, summary = picked
    return await _restore(session, summary, scope, f"Rewound to before checkpoint {number}")


async def undo(agent: AcpAgent, session: OpenSession, command: Command) -> str:
    """Revert the newest checkpoint: the last turn's edits, or the last rewind."""
    picked = _pick(session, None)
    if isinstance(picked, str):
        return picked
    return await _restore(session, picked[1], "files", "Undid the last change")


async def _restore(
    session: OpenSession, summary: CheckpointSummary, scope: Scope, done: str
) -> str:
    report = await session.service.checkpoints.restore(
        session.session_id, summary.checkpoint_id, scope=scope, dry_run=False, force=False
    )
    lines = [f"{done} ({scope})." if report.applied else "Nothing was restored."]
    for file in report.files:
        reason = f": {file.reason}" if file.reason else ""
        lines.append(f"- {file.path}: {file.result}{reason}")
    if report.undo_entry_id:
        lines.append("`/undo` puts it back.")
    return "\n".join(lines)


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
    service = session.service
    service.turns.ensure_idle(session.session_id)
    provider = await service.prompting.provider()
    with session.store.writer(session.session_id) as writer:
        entry = await maybe_compact(provider, writer, service.prompting.config, force=True)
    if entry is None:
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


COMMANDS: dict[str, Spec] = {
    "checkpoints": Spec("List this session's checkpoints, newest first", None, checkpoints),
    "diff": Spec("Show what checkpoint N changed (1 = the last)", "N", diff),
    "rewind": Spec(
        "Revert checkpoint N and later: files, conversation or both",
        "N files|conversation|both",
        rewind,
    ),
    "undo": Spec("Undo the last change (a turn's edits or a rewind)", None, undo),
    "fork": Spec("Copy this session into a new one to try another way", None, fork),
    "rename": Spec("Rename this session", "NEW NAME", rename),
    "compact": Spec("Summarize the older conversation to free context", None, compact),
    "sessions": Spec("List the sessions of this folder", None, sessions),
}
