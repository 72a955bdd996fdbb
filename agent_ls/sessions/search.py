"""Full-text search over one workspace's sessions or all of them, best match first.

Each workspace has its own FTS5 index (in its ``index.sqlite``); a search first indexes what
the files gained since the last one, then merges the workspaces' matches by bm25 rank. The
cursor is the number of hits already returned.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import heapq
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import fulltext, layout
from .errors import InvalidCursor
from .index import Hit
from .store import SessionStore


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: where it is, and a plain-text snippet with its highlighted ranges."""

    session_id: str
    session_name: str | None
    workspace: str
    entry_id: str
    role: str
    snippet: str
    highlights: list[list[int]]
    ts: str


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"skip": offset}).encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        skip = json.loads(raw)["skip"]
    except (ValueError, TypeError, KeyError, RecursionError, binascii.Error):
        raise InvalidCursor(cursor) from None
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise InvalidCursor(cursor)
    return skip


def _hit(found: Hit) -> SearchHit:
    snippet, highlights = fulltext.plain_snippet(found.snippet or "")
    return SearchHit(
        found.session_id,
        found.name,
        found.cwd,
        found.entry_id,
        found.role,
        snippet,
        highlights,
        found.ts,
    )


def search(
    stores: Iterable[SessionStore], query: str, limit: int = 20, cursor: str | None = None
) -> tuple[list[SearchHit], str | None]:
    """The best ``limit`` matches of ``query`` across ``stores`` after ``cursor``, and the
    cursor of the next page (None at the end)."""
    skip = _decode(cursor) if cursor else 0
    expression = fulltext.match_expression(query)
    if expression is None:
        return [], None
    pages: list[list[Hit]] = []
    for store in stores:
        if not store.sessions_dir.is_dir():
            continue
        store.index_text()
        pages.append(store._index.search(expression, skip + limit + 1, 0))
    merged = list(heapq.merge(*pages, key=lambda hit: hit.rank))[skip:]
    more = len(merged) > limit
    hits = [_hit(h) for h in merged[:limit]]
    return hits, _encode(skip + limit) if more else None


def all_stores(root: Path | None = None) -> list[SessionStore]:
    """A store for each workspace directory under ``root`` (the caller closes them)."""
    base = layout.workspaces_dir(Path(root) if root is not None else layout.store_root())
    stores: list[SessionStore] = []
    with contextlib.suppress(FileNotFoundError), os.scandir(base) as it:
        for item in sorted(it, key=lambda i: i.name):
            if item.is_dir():
                stores.append(SessionStore.at(Path(item.path), root=base.parent))
    return stores
