"""Finding and carrying sessions from the chat: search hits, export targets, tag edits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.text import Text

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
