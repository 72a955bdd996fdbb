"""What full-text search indexes of an entry, how a user's query becomes an FTS5 query, and
how FTS5's marked snippet becomes plain text with UTF-16 highlight ranges.

Pure functions: the index (``index.py``) stores the documents, the search (``search.py``) asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from .format import Entry, readable

OPEN, CLOSE = "\x02", "\x03"  # marks FTS5 puts around a match; never in indexed text
SNIPPET_TOKENS = 24
SNIPPET_CHARS = 160
TOOL_VALUE_CHARS = 300  # a tool input's string values up to this long (paths, commands)
OUTPUT_SCAN_CHARS = 8192  # a tool result is searched for paths in its first 8 KB only
_PATHLIKE = re.compile(r"[\w.~-]*/[\w./~-]+|[\w-]+\.[A-Za-z][A-Za-z0-9]{0,5}\b")
_MARKS = re.compile(f"[{OPEN}{CLOSE}]")
_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def _clean(text: str) -> str:
    return readable(_MARKS.sub(" ", text))


def _tool_values(value: Any, out: list[str], depth: int = 0) -> None:
    """The short strings of a tool input (paths, patterns, commands), not file contents."""
    if depth > 4:
        return
    if isinstance(value, str) and len(value) <= TOOL_VALUE_CHARS:
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _tool_values(item, out, depth + 1)
    elif isinstance(value, list):
        for item in value[:50]:
            _tool_values(item, out, depth + 1)


def _result_paths(content: Any) -> str:
    """Path-like words of a tool result (its output is not indexed whole: it is mostly code)."""
    if isinstance(content, list):
        text = "\n".join(
            b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    else:
        text = content if isinstance(content, str) else ""
    return " ".join(dict.fromkeys(_PATHLIKE.findall(text[:OUTPUT_SCAN_CHARS])))


def entry_docs(entry: Entry) -> Iterator[tuple[str, str]]:
    """The ``(role, text)`` documents of one entry: user and assistant text, thinking, and per
    tool call its name and short input values, per tool result the paths it names."""
    if entry.get("type") != "message":
        return
    role = entry.get("role")
    content = entry.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list):
        return
    texts: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            yield "thinking", _clean(block["thinking"])
        elif kind == "tool_use":
            values: list[str] = [str(block.get("name") or "")]
            _tool_values(block.get("input"), values)
            yield "tool", _clean(" ".join(values))
        elif kind == "tool_result":
            paths = _result_paths(block.get("content"))
            if paths:
                yield "tool", _clean(paths)
    text = "\n".join(texts).strip()
    if not text:
        return
    if role == "tool_result":  # a tool's output stored as its own message
        paths = _result_paths(text)
        if paths:
            yield "tool", _clean(paths)
    elif role in ("user", "assistant"):
        yield role, _clean(text)


class Expression(NamedTuple):
    """A query as FTS5 expressions: every word whole, and (when the query ends in a word)
    the same with the last word as a prefix, for search as you type."""

    exact: str
    prefix: str | None


def match_expression(query: str) -> Expression | None:
    """A user's query as FTS5 expressions that can never be a syntax error.

    Every word is quoted (so ``AND``, ``-``, ``:`` and ``*`` mean nothing special), a
    ``"quoted phrase"`` stays a phrase, and all terms must match. None when the query holds
    no word at all.
    """
    terms: list[str] = []
    for phrase, word in _TERM.findall(query):
        words = _WORD.findall(phrase if phrase else word)
        if not words:
            continue
        if phrase:
            terms.append('"' + " ".join(words) + '"')
        else:
            terms.extend(f'"{w}"' for w in words)
    if not terms:
        return None
    exact = " ".join(terms)
    if terms[-1].count(" ") or query[-1].isspace() or query.endswith('"'):
        return Expression(exact, None)
    return Expression(exact, exact + "*")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit LSP and JavaScript count in."""
    return len(text.encode("utf-16-le")) // 2


def plain_snippet(marked: str) -> tuple[str, list[list[int]]]:
    """FTS5's snippet (matches between ``OPEN`` and ``CLOSE``) as plain text of at most
    ``SNIPPET_CHARS`` characters and the matches' ``[start, end)`` in UTF-16 units."""
    marked = " ".join(marked.split())
    plain: list[str] = []
    spans: list[list[int]] = []
    pos = 0
    start: int | None = None
    for piece in re.split(f"([{OPEN}{CLOSE}])", marked):
        if piece == OPEN:
            start = pos
        elif piece == CLOSE:
            if start is not None and pos > start:
                spans.append([start, pos])
            start = None
        elif piece:
            plain.append(piece)
            pos += utf16_len(piece)
    text = "".join(plain)
    if len(text) > SNIPPET_CHARS:
        text = text[: SNIPPET_CHARS - 1] + "…"
        limit = utf16_len(text) - 1
        spans = [[s, min(e, limit)] for s, e in spans if s < limit]
    return text, spans
