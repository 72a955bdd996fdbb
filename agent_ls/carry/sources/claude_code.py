"""Claude Code's sessions: ``~/.claude/projects/<folder>/<session id>.jsonl``.

The folder is the working directory with every character other than a letter or a digit
replaced by ``-`` (``/home/u/proj`` → ``-home-u-proj``). Each line is one entry of a tree:
``uuid``, ``parentUuid``, ``timestamp``, ``sessionId``, ``cwd`` and, for ``user`` and
``assistant`` lines, the API ``message``. An assistant reply is written one content block per
line (same ``message.id``, chained); tool results come back as ``user`` lines holding
``tool_result`` blocks. ``summary`` lines (``summary``, ``leafUuid``) and ``custom-title`` lines
name the session. Side chains (sub-agents) and meta lines are not part of the conversation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from agent_ls.carry.converted import Converted, Draft
from agent_ls.carry.sources.lines import read_objects
from agent_ls.carry.times import iso_ms

AGENT = "claude-code"
KNOWN = {"system", "file-history-snapshot", "queue-operation", "progress", "summary"}
_KEPT_BLOCKS = {"text", "tool_use", "image", "redacted_thinking", "thinking"}


def root() -> Path:
    """Where Claude Code keeps its projects (``$CLAUDE_CONFIG_DIR`` overrides ``~/.claude``)."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(base) if base else Path.home() / ".claude") / "projects"


def folder_name(cwd: Path) -> str:
    """The project folder Claude Code derives from a working directory."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(cwd))


def session_files(folder: Path) -> list[Path]:
    """The sessions of one project folder (sub-agents' files live in subfolders: not these)."""
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def parse(path: Path) -> Converted:
    """Read one Claude Code session file."""
    objects, torn = read_objects(path)
    first_ts = next((t for t in (iso_ms(o.get("timestamp")) for o in objects) if t), None)
    session_id = next(
        (o["sessionId"] for o in objects if isinstance(o.get("sessionId"), str)), path.stem
    )
    cwd = next((o["cwd"] for o in objects if isinstance(o.get("cwd"), str)), None)
    out = Converted(AGENT, session_id, str(path), cwd, first_ts or "", tree=True, torn=torn)
    ts = first_ts or ""
    summary: str | None = None
    for obj in objects:
        ts = iso_ms(obj.get("timestamp")) or ts
        kind = obj.get("type")
        uuid, parent = obj.get("uuid"), obj.get("parentUuid")
        if kind == "custom-title" and isinstance(obj.get("customTitle"), str):
            out.title = obj["customTitle"]
        elif kind == "summary" and isinstance(obj.get("summary"), str):
            summary = obj["summary"]
        if kind not in ("user", "assistant") or obj.get("isSidechain") or obj.get("isMeta"):
            if kind not in KNOWN and kind not in ("user", "assistant", "custom-title"):
                out.unknown[str(kind)] += 1
            logical = obj.get("logicalParentUuid")  # a compaction boundary keeps the thread
            out.drop(uuid, parent if parent is not None else logical)
            continue
        message = obj.get("message")
        if not isinstance(message, dict):
            out.unknown[f"{kind} without a message"] += 1
            out.drop(uuid, parent)
            continue
        drafts = _drafts(kind, message, ts)
        if not drafts:
            out.drop(uuid, parent)
            continue
        previous = parent if isinstance(parent, str) else None
        for i, body in enumerate(drafts):  # a line split in two: the second follows the first
            last = i == len(drafts) - 1
            source_id = uuid if last and isinstance(uuid, str) else f"{uuid}#{i}"
            out.drafts.append(Draft(body, ts, source_id, previous))
            previous = source_id
    out.title = out.title or summary
    if not out.created_at:
        out.created_at = ts
    return out


def _drafts(kind: str, message: dict[str, Any], ts: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if kind == "assistant":
        blocks = _blocks(content)
        if not blocks:
            return []
        body: dict[str, Any] = {"type": "message", "role": "assistant", "content": blocks}
        if isinstance(message.get("model"), str):
            body["model"] = message["model"]
        usage = message.get("usage")
        if isinstance(usage, dict):
            body["usage"] = {k: v for k, v in usage.items() if isinstance(v, int)}
        if isinstance(message.get("stop_reason"), str):
            body["stopReason"] = message["stop_reason"]
        return [body]
    if isinstance(content, str):
        return [{"type": "message", "role": "user", "content": content}] if content else []
    if not isinstance(content, list):
        return []
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    rest = _blocks([b for b in content if b not in results])
    out = []
    if results:
        out.append({"type": "message", "role": "tool_result", "content": _results(results)})
    if rest:
        out.append({"type": "message", "role": "user", "content": rest})
    return out


def _blocks(content: Any) -> list[dict[str, Any]]:
    """The content blocks the store keeps; thinking only with its signature (the API checks
    it when the conversation goes on)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    kept = []
    for block in content:
        if not isinstance(block, dict) or block.get("type") not in _KEPT_BLOCKS:
            continue
        if block["type"] == "thinking" and not block.get("signature"):
            continue
        if block["type"] == "tool_use" and not isinstance(block.get("input"), dict):
            block = {**block, "input": {}}
        kept.append(dict(block))
    return kept


def _results(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for block in blocks:
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": str(block.get("tool_use_id", "")),
            "content": block.get("content") if block.get("content") is not None else "",
        }
        if block.get("is_error"):
            result["is_error"] = True
        out.append(result)
    return out
