"""Per-file text of a checkpoint: before/after content and a unified diff, for diff views."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from agent_ls.checkpoints.blobs import BlobStore
from agent_ls.checkpoints.entries import UNKNOWN, file_records, operation_of
from agent_ls.checkpoints.errors import BlobCorrupt, BlobMissing


def path_uri(path: str) -> str:
    """The default `uri_for`: a file URI of the recorded absolute path."""
    return Path(path).as_uri()


def file_diffs(
    checkpoint: Mapping[str, Any],
    blobs: BlobStore,
    uri_for: Callable[[str], str] = path_uri,
    paths: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One item per file of the checkpoint (or of `paths`): `path`, `uri`, `operation`,
    `restorable`, `before`/`after` text (None when absent, binary or unavailable) and `diff`.

    Binary content (a NUL byte, or not UTF-8) gets no text and a one-line diff saying so.
    """
    items = []
    for record in file_records(checkpoint):
        path = record["path"]
        if paths is not None and path not in paths:
            continue
        before, after = record.get("before"), record.get("after")
        item: dict[str, Any] = {
            "path": path,
            "uri": uri_for(path),
            "operation": operation_of(before, after),
            "restorable": before != UNKNOWN,
            "before": None,
            "after": None,
        }
        try:
            old = None if before in (None, UNKNOWN) else blobs.get(before)
            new = None if after is None else blobs.get(after)
        except (BlobMissing, BlobCorrupt) as exc:
            item["diff"] = f"{exc}\n"
            items.append(item)
            continue
        old_text, new_text = _text(old), _text(new)
        item["before"], item["after"] = old_text, new_text
        if before == UNKNOWN:
            item["diff"] = "Prior content unknown: changed by a shell command, no copy was kept\n"
        elif (old is not None and old_text is None) or (new is not None and new_text is None):
            item["diff"] = f"Binary file {path} changed\n"
        else:
            item["diff"] = _unified(path, old_text, new_text, before is None, after is None)
        items.append(item)
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
