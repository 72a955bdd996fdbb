"""Finding and carrying sessions from the chat: /search, /tag, /export and their parts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from agent_ls.cli.chat.keyboard import pick_number
from agent_ls.lsp import protocol

if TYPE_CHECKING:
    from agent_ls.cli.chat.app import Chat


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


FORMATS = {"markdown": ".md", "html": ".html", "jsonl": ".jsonl", "bundle": ".tar"}
_BY_SUFFIX = {suffix: name for name, suffix in FORMATS.items()}


def python_offset(text: str, utf16: int) -> int:
    """The index in ``text`` of a UTF-16 offset (the wire counts UTF-16 code units)."""
    units = 0
    for index, char in enumerate(text):
        if units >= utf16:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def highlighted(snippet: str, highlights: list[list[int]]) -> Text:
    """A hit's snippet with the matched words in bold."""
    shown = Text(snippet.replace("\n", " "), style="dim")
    for start, end in highlights:
        shown.stylize("bold yellow", python_offset(snippet, start), python_offset(snippet, end))
    return shown


def hit_title(hit: dict[str, Any]) -> str:
    return str(hit.get("sessionName") or hit["sessionId"])


def export_target(arg: str, workspace: Path, session: dict[str, Any]) -> tuple[str, Path]:
    """``/export [format] [path]``: the format (else from the path's suffix, else markdown) and
    an absolute path (relative ones are in the workspace; the default is named after the
    session)."""
    words = arg.split(maxsplit=1)
    fmt = words[0] if words and words[0] in FORMATS else ""
    rest = (words[1] if len(words) > 1 else "") if fmt else arg.strip()
    path = Path(rest).expanduser() if rest else None
    if not fmt:
        fmt = _BY_SUFFIX.get(path.suffix, "markdown") if path else "markdown"
    if path is None:
        name = str(session.get("name") or session["sessionId"])
        path = Path(re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") + FORMATS[fmt])
    return fmt, path if path.is_absolute() else workspace / path


def tag_change(current: list[str], words: list[str]) -> list[str]:
    """The tags after ``/tag a b -c``: a and b added, c removed, the order kept."""
    tags = list(current)
    for word in words:
        name = word.lstrip("-#")
        if word.startswith("-"):
            tags = [t for t in tags if t != name]
        elif name and name not in tags:
            tags.append(name)
    return tags


async def search(chat: Chat, arg: str) -> None:
    """Hits over every session's text; picking one switches to its session at that entry."""
    if not arg:
        raise LookupError('/search TEXT (words, "a phrase")')
    hits = (await chat.request(protocol.SESSION_SEARCH, {"query": arg, "limit": 20}))["hits"]
    if not hits:
        chat.say(f"Nothing matches {arg}.")
        return
    choices = []
    for n, hit in enumerate(hits, 1):
        head = f"{n:3}. {hit_title(hit)[:40]} · {hit['role']} · {age(hit['ts'])}"
        chat.say(
            Text.assemble((head, "bold"), "\n     ", highlighted(hit["snippet"], hit["highlights"]))
        )
        choices.append(f"{n}. {hit_title(hit)[:40]} {' '.join(hit['snippet'].split())[:60]}")
    question = "go to (type to search, Enter stays here) > "
    number = pick_number(await chat.keyboard.pick(question, choices), choices)
    if number:
        hit = hits[number - 1]
        params = {"sessionId": hit["sessionId"], "focusEntryId": hit["entryId"]}
        await chat.show_transcript(await chat.request(protocol.SESSION_SWITCH, params))


async def tag(chat: Chat, arg: str) -> None:
    """/tag shows this session's tags; /tag a -b adds a and removes b."""
    sid = chat.sid()
    current = (chat.session or {}).get("tags")
    if current is None:
        listed = (await chat.request(protocol.SESSION_LIST, {"limit": 1000}))["sessions"]
        current = next((s.get("tags") or [] for s in listed if s["sessionId"] == sid), [])
    if arg:
        tags = tag_change(current, arg.split())
        params = {"sessionId": sid, "tags": tags}
        chat.session = await chat.request(protocol.SESSION_SET_METADATA, params)
        current = chat.session.get("tags") or []
    shown = " ".join(f"#{name}" for name in current) or "none"
    chat.say(f"tags: {shown} (/tag NAME adds one, /tag -NAME removes it; /sessions #NAME)")


async def export(chat: Chat, arg: str) -> None:
    """/export [format] [path]: the server writes the file (a bundle too)."""
    fmt, path = export_target(
        arg, chat.workspace, {**(chat.session or {}), "sessionId": chat.sid()}
    )
    params = {"sessionId": chat.sid(), "format": fmt, "path": str(path)}
    result = await chat.request(protocol.SESSION_EXPORT, params)
    chat.say(f"Wrote {result['path']} ({fmt}, {result['bytes']:,} bytes).")
