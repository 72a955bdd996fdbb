"""Another agent's session, converted to this store's entries but not yet given ids.

Each importer reads its format into a ``Converted``: drafts in file order, each naming its
parent by the source's id (tree formats) or following the previous draft (linear ones). ``build``
then assigns the store's ids, resolves parents through the source entries that were dropped
(an ignored entry type, a torn line), and merges what the store keeps in one entry: an
assistant reply split over several lines, tool results of one step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agent_ls.sessions.format import Entry, new_entry_id

# A draft's field naming an entry by its source id, or the draft that follows it.
SOURCE_REF = "source"
NEXT_REF = "next"
_MERGED_ROLES = ("assistant", "tool_result")


@dataclass
class Draft:
    """One entry to be: its type and fields (no id, parentId or ts), its time and source ids."""

    body: Entry
    ts: str
    source_id: str | None = None
    source_parent: str | None = None


@dataclass
class Converted:
    """One source session, converted; ``torn`` and ``unknown`` count what was skipped."""

    agent: str
    source_id: str
    source_path: str
    cwd: str | None
    created_at: str
    tree: bool
    drafts: list[Draft] = field(default_factory=list)
    title: str | None = None
    dropped: dict[str, str | None] = field(default_factory=dict)  # source id → its parent
    torn: int = 0
    unknown: Counter[str] = field(default_factory=Counter)

    def drop(self, source_id: object, parent: object) -> None:
        """An entry not carried over: its children attach to its parent instead."""
        if isinstance(source_id, str):
            self.dropped[source_id] = parent if isinstance(parent, str) else None

    def problems(self) -> list[str]:
        """What was skipped, as sentences for the import report."""
        out = []
        if self.torn:
            out.append(f"{self.source_path}: skipped {self.torn} line(s) that are not JSON objects")
        if self.unknown:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.unknown.items()))
            total = sum(self.unknown.values())
            out.append(f"{self.source_path}: skipped {total} entr(ies) of unknown type ({kinds})")
        return out


def build(converted: Converted) -> list[Entry]:
    """The store's entries for a converted session, parents before children, leaf last."""
    out: list[Entry] = []
    ids: set[str] = set()
    by_source: dict[str, Entry] = {}
    waiting: list[Entry] = []  # compactions whose first kept entry is the next one
    for draft in converted.drafts:
        parent = _parent(converted, draft, out, by_source)
        body = draft.body
        if parent is not None and _merges(parent, body, out):
            parent["content"] = [*parent["content"], *body["content"]]
            if draft.source_id is not None:
                by_source[draft.source_id] = parent
            continue
        entry: Entry = {
            "type": body["type"],
            "id": new_entry_id(ids),
            "parentId": None if parent is None else parent["id"],
            "ts": draft.ts,
        }
        entry.update((k, v) for k, v in body.items() if k != "type")
        ids.add(entry["id"])
        for compaction in waiting:
            compaction["firstKeptEntryId"] = entry["id"]
        waiting = []
        kept = entry.get("firstKeptEntryId")
        if isinstance(kept, tuple):
            if kept[0] == NEXT_REF:
                waiting.append(entry)
            target = _resolve(converted, kept[1], by_source) if kept[0] == SOURCE_REF else None
            entry["firstKeptEntryId"] = None if target is None else target["id"]
        out.append(entry)
        if draft.source_id is not None:
            by_source[draft.source_id] = entry
    if converted.title and out:
        out.append(
            {
                "type": "session_info",
                "id": new_entry_id(ids),
                "parentId": out[-1]["id"],
                "ts": out[-1]["ts"],
                "name": converted.title,
            }
        )
    return out


def _parent(
    converted: Converted, draft: Draft, out: list[Entry], by_source: dict[str, Entry]
) -> Entry | None:
    previous = out[-1] if out else None
    if not converted.tree:
        return previous
    if draft.source_parent is None:
        return None
    found = _resolve(converted, draft.source_parent, by_source)
    return previous if found is None else found  # a parent the file lacks: keep the thread


def _resolve(
    converted: Converted, source_id: str | None, by_source: dict[str, Entry]
) -> Entry | None:
    seen: set[str] = set()
    while source_id is not None and source_id not in seen:
        found = by_source.get(source_id)
        if found is not None:
            return found
        if source_id not in converted.dropped:
            return None
        seen.add(source_id)
        source_id = converted.dropped[source_id]
    return None


def _merges(parent: Entry, body: dict[str, Any], out: list[Entry]) -> bool:
    """A message continuing the previous one's role (a reply split over lines, one result per
    tool) joins it: the store keeps one entry per step, as the agent writes them."""
    return (
        parent is out[-1]
        and body.get("type") == "message"
        and parent.get("type") == "message"
        and body.get("role") in _MERGED_ROLES
        and parent.get("role") == body.get("role")
        and isinstance(parent.get("content"), list)
        and isinstance(body.get("content"), list)
    )
