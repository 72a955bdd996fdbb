"""Per-file text of a checkpoint: before/after content and a unified diff, for diff views."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.entries import UNKNOWN, Operation, file_records, operation_of
from agent_ls.checkpoints.errors import BlobCorrupt, BlobMissing
from agent_ls.checkpoints.hunks import Hunk, hunks


@dataclass
class FileDiff:
    """One file of a checkpoint for a diff view; `before`/`after` are None when absent,
    binary or unavailable, and `diff` then says why. `hunks` number the text change's hunks
    for `agent/checkpoint/revertHunks` (none for binary or unavailable content)."""

    path: str
    uri: str
    operation: Operation
    restorable: bool
    before: str | None = None
    after: str | None = None
    diff: str = ""
    hunks: list[Hunk] = field(default_factory=list)


def path_uri(path: str) -> str:
    """The default `uri_for`: a file URI of the recorded absolute path."""
    return Path(path).as_uri()


def file_diffs(
    checkpoint: Mapping[str, Any],
    blobs: BlobStore,
    uri_for: Callable[[str], str] = path_uri,
    paths: Collection[str] | None = None,
) -> list[FileDiff]:
    """One item per file of the checkpoint (or of `paths`).

    Binary content (a NUL byte, or not UTF-8) gets no text and a one-line diff saying so.
    """
    items = []
    for record in file_records(checkpoint):
        path = record["path"]
        if paths is not None and path not in paths:
            continue
        before, after = record.get("before"), record.get("after")
        item = FileDiff(path, uri_for(path), operation_of(before, after), before != UNKNOWN)
        items.append(item)
        try:
            old = None if before in (None, UNKNOWN) else blobs.get(before)
            new = None if after is None else blobs.get(after)
        except (BlobMissing, BlobCorrupt) as exc:
            item.diff = f"{exc}\n"
            continue
        item.before, item.after = _text(old), _text(new)
        if before == UNKNOWN:
            item.diff = "Prior content unknown: changed by a shell command, no copy was kept\n"
        elif (old is not None and item.before is None) or (new is not None and item.after is None):
            item.diff = f"Binary file {path} changed\n"
        else:
            item.diff = _unified(path, item.before, item.after, before is None, after is None)
            item.hunks = hunks(old or b"", new or b"")
    return items


def _text(data: bytes | None) -> str | None:
    if data is None or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _unified(path: str, old: str | None, new: str | None, created: bool, deleted: bool) -> str:
    return "".join(
        difflib.unified_diff(
            _lines(old),
            _lines(new),
            fromfile="/dev/null" if created else f"a{path}",
            tofile="/dev/null" if deleted else f"b{path}",
        )
    )


def _lines(text: str | None) -> list[str]:
    """Lines with their ends; a missing final newline is added so the diff stays line-based."""
    lines = (text or "").splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    return lines
