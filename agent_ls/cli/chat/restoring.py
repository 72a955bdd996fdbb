"""Reverts and rewinds as the terminal shows them: all or nothing, and the user picks.

The server applies nothing when a file conflicts and answers the plan; the chat shows it and
asks whether to restore the other files, overwrite all of them, or cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

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
