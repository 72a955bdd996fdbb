"""A session as Markdown: readable as text, rendered nicely anywhere Markdown is."""

from __future__ import annotations

import re

from agent_ls.carry.document import Checkpoint, Document, Message, Note, Part, ToolCall

_ROLES = {"user": "User", "assistant": "Assistant", "tool": "Tool results"}


def fence(text: str, lang: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{ticks}{lang}\n{body}{ticks}\n"


def render(doc: Document) -> str:
    """The whole transcript."""
    info = doc.info
    lines = [
        f"# {doc.title}",
        "",
        f"- Session: `{info.session_id}`",
        f"- Workspace: `{info.workspace}`",
        f"- Created: {info.created_at}",
        f"- Modified: {info.modified_at}",
        "",
    ]
    return "\n".join(lines) + "".join("\n" + _part(part) for part in doc.parts)


def _part(part: Part) -> str:
    if isinstance(part, Message):
        return _message(part)
    if isinstance(part, Checkpoint):
        head = "Undo checkpoint" if part.kind == "undo" else "Checkpoint"
        out = f"### {head} · {part.ts}\n\n"
        for change in part.files:
            out += f"- {change.operation} `{change.path}`\n"
        for change in part.files:
            out += "\n" + fence(change.diff or "(no textual change)\n", "diff")
        return out
    assert isinstance(part, Note)
    out = f"### {part.title} · {part.ts}\n"
    return out + (f"\n{part.text}\n" if part.text else "")


def _message(message: Message) -> str:
    model = f" ({message.model})" if message.model else ""
    out = f"## {_ROLES.get(message.role, message.role)}{model} · {message.ts}\n"
    for part in message.parts:
        if isinstance(part, ToolCall):
            out += f"\n**Tool call `{part.name}`**\n\n" + fence(part.input, "json")
            if part.output is not None:
                label = "Error" if part.is_error else "Output"
                out += f"\n{label}:\n\n" + fence(part.output or "(empty)")
        elif part[0] == "thinking":
            quoted = "\n".join("> " + line for line in part[1].splitlines())
            out += f"\n> *Thinking*\n>\n{quoted}\n"
        else:
            out += f"\n{part[1]}\n"
    return out
