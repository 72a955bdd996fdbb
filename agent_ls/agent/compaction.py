"""Keeping a long session inside the model's context window.

At the start of a turn, when the conversation nears ``context_window * compaction_threshold``,
the older turns are summarized by the model and a ``compaction`` entry records the summary and
the first entry kept verbatim. Nothing is deleted: the entries stay in the file, and the
conversation builder simply starts from the summary.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.conversation import active_entries, build_messages
from agent_ls.agent.providers.base import ModelRequest, Provider, ProviderFailure

log = logging.getLogger(__name__)

KEEP_FRACTION = 0.25
SUMMARY_MAX_TOKENS = 4096
SUMMARY_SYSTEM = (
    "You summarize a coding session between a user and a coding agent so the agent can continue "
    "the work without the full transcript."
)
SUMMARY_REQUEST = (
    "Summarize the conversation so far for your own later use. Keep: the user's goals and "
    "constraints, decisions made, files read or changed (with paths) and why, commands run and "
    "their important results, errors met and how they were solved, and what remains to do. "
    "Be concrete and concise; reply with the summary only."
)


class _Writer(Protocol):
    @property
    def session(self) -> Any: ...

    def append(self, entry: dict[str, Any]) -> dict[str, Any]: ...


def estimate_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A cheap upper-side estimate: about four characters per token."""
    return len(json.dumps(messages, ensure_ascii=False)) // 4


def reported_tokens(entries: Sequence[Mapping[str, Any]]) -> int:
    """What the API counted for the last response (its whole prompt plus its output)."""
    for entry in reversed(entries):
        usage = entry.get("usage")
        if entry.get("role") == "assistant" and isinstance(usage, Mapping):
            keys = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
            return sum(int(usage.get(k) or 0) for k in (*keys, "output_tokens"))
    return 0


def choose_first_kept(entries: Sequence[Mapping[str, Any]], budget: int) -> str | None:
    """The oldest user prompt such that the turns from it on fit in ``budget`` tokens; the
    latest prompt is always kept. None when there is nothing older to summarize."""
    starts = [i for i, e in enumerate(entries) if e.get("role") == "user"]
    if len(starts) < 2:
        return None
    chosen = starts[-1]
    for start in reversed(starts[:-1]):
        if estimate_tokens(list(entries[start:])) > budget:
            break
        chosen = start
    if chosen == 0:
        return None
    return str(entries[chosen]["id"])


def _before(path: Sequence[Mapping[str, Any]], cut: int) -> list[Mapping[str, Any]]:
    """The path up to ``cut``, still under the summary of the latest compaction when that
    compaction comes after the cut (it summarizes everything before the path's start)."""
    latest = next((e for e in reversed(path) if e.get("type") == "compaction"), None)
    if latest is None or any(e is latest for e in path[:cut]):
        return list(path[:cut])
    return [latest, *path[:cut]]


def _size(path: Sequence[Mapping[str, Any]]) -> tuple[int, list[Mapping[str, Any]]]:
    """The conversation's estimated tokens, and its entries since the latest compaction."""
    _, entries = active_entries(path)
    return max(estimate_tokens(build_messages(path)), reported_tokens(entries)), entries


async def maybe_compact(
    provider: Provider, writer: _Writer, config: AgentConfig, *, force: bool = False
) -> dict[str, Any] | None:
    """Append a compaction entry when the conversation is too big; the entry, or None."""
    path = writer.session.active_path()  # from the latest compaction's first kept entry on
    tokens, entries = await asyncio.to_thread(_size, path)  # a long path: off the loop
    if not force and tokens < config.context_window * config.compaction_threshold:
        return None
    first_kept = choose_first_kept(entries, int(config.context_window * KEEP_FRACTION))
    if first_kept is None:
        return None
    cut = next(i for i, e in enumerate(path) if e.get("id") == first_kept)
    older = build_messages(_before(path, cut))
    ask = {"type": "text", "text": SUMMARY_REQUEST}
    if older and older[-1]["role"] == "user":
        older[-1]["content"].append(ask)
    else:
        older.append({"role": "user", "content": [ask]})
    request = ModelRequest(
        model=config.model,
        system=SUMMARY_SYSTEM,
        messages=older,
        max_tokens=min(config.max_tokens, SUMMARY_MAX_TOKENS),
    )
    summary = await provider.complete(request)
    if isinstance(summary, ProviderFailure) or not summary.strip():
        log.warning("compaction skipped: %s", getattr(summary, "message", "empty summary"))
        return None
    return writer.append(
        {
            "type": "compaction",
            "summary": summary,
            "firstKeptEntryId": first_kept,
            "tokensBefore": tokens,
        }
    )
