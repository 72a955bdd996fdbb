"""Reading another agent's JSONL file: read-only, regular files only, torn lines counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent_ls.files.regular import read_regular

MAX_SOURCE_BYTES = 1 << 30  # a bigger file is reported and left alone


class SourceTooBig(OSError):
    """A session file over ``MAX_SOURCE_BYTES``: not read at all."""


def read_objects(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The JSON objects of a JSONL file in order, and how many lines were not one (torn)."""
    data = read_regular(path, MAX_SOURCE_BYTES)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceTooBig(f"{path} is over {MAX_SOURCE_BYTES >> 20} MiB; it was not imported")
    objects: list[dict[str, Any]] = []
    torn = 0
    for line in _lines(data):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            torn += 1
            continue
        if isinstance(value, dict):
            objects.append(value)
        else:
            torn += 1
    return objects, torn


def _lines(data: bytes) -> Iterator[bytes]:
    for line in data.split(b"\n"):
        if line.strip():
            yield line


def text_of(content: Any) -> str:
    """The text blocks of a content list (or the string itself), joined by newlines."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "\n".join(parts)
