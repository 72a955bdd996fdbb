"""Codex CLI's sessions: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``.

Each line is ``{timestamp, type, payload}``: ``session_meta`` first (``id``, ``cwd``,
``timestamp``), then ``response_item`` (the model's items: ``message`` with ``input_text`` /
``output_text`` parts, ``function_call`` with JSON ``arguments`` and a ``call_id``,
``function_call_output``, ``custom_tool_call`` and its output, ``local_shell_call``,
``reasoning``), ``turn_context`` (the model), ``event_msg`` (what the UI showed: a copy) and
``compacted`` (a summary replacing what came before). Older files have a first line
``{id, timestamp, instructions}`` and bare items after it, with ``record_type: "state"`` lines.
A rollout is linear: no branches.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agent_ls.carry.converted import NEXT_REF, Converted, Draft
from agent_ls.carry.sources.lines import read_objects, text_of
from agent_ls.carry.times import iso_ms

AGENT = "codex"
KNOWN = {"event_msg", "turn_context", "session_meta"}
KNOWN_ITEMS = {"reasoning", "web_search_call", "ghost_snapshot"}
_BOILERPLATE = ("<environment_context>", "<user_instructions>", "# AGENTS.md instructions")


def root() -> Path:
    """Codex's session folder (``$CODEX_HOME`` overrides ``~/.codex``)."""
    base = os.environ.get("CODEX_HOME")
    return (Path(base) if base else Path.home() / ".codex") / "sessions"


def session_files(folder: Path) -> list[Path]:
    """Every rollout under a folder, at any depth."""
    return sorted(p for p in folder.rglob("rollout-*.jsonl") if p.is_file())


def parse(path: Path) -> Converted:
    """Read one rollout file (the current envelope format or the older bare one)."""
    objects, torn = read_objects(path)
    meta = _meta(objects)
    created = iso_ms(meta.get("timestamp")) or ""
    session_id = meta["id"] if isinstance(meta.get("id"), str) else path.stem
    cwd = meta["cwd"] if isinstance(meta.get("cwd"), str) else None
    out = Converted(AGENT, session_id, str(path), cwd, created, tree=False, torn=torn)
    ts = created
    model: str | None = None
    for obj in objects:
        ts = iso_ms(obj.get("timestamp")) or ts
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind == "response_item" and isinstance(payload, dict):
            body = _item(payload, out)
        elif kind == "compacted" and isinstance(payload, dict):
            body = _compacted(payload)
        elif kind == "turn_context" and isinstance(payload, dict):
            model = payload["model"] if isinstance(payload.get("model"), str) else model
            continue
        elif kind in KNOWN or obj.get("record_type") == "state" or obj is meta:
            continue
        elif "payload" not in obj and isinstance(kind, str):  # the older, bare items
            body = _item(obj, out)
        else:
            out.unknown[str(kind)] += 1
            continue
        if body is None:
            continue
        if model and body.get("role") == "assistant":
            body["model"] = model
        out.drafts.append(Draft(body, ts))
    return out


def _meta(objects: list[dict[str, Any]]) -> dict[str, Any]:
    for obj in objects[:5]:
        if obj.get("type") == "session_meta" and isinstance(obj.get("payload"), dict):
            return dict(obj["payload"])
        if "type" not in obj and isinstance(obj.get("id"), str):  # the older first line
            return obj
    return {}


def _item(item: dict[str, Any], out: Converted) -> dict[str, Any] | None:
    kind = item.get("type")
    if kind == "message":
        return _message(item)
    if kind in ("function_call", "custom_tool_call", "local_shell_call"):
        return _call(item)
    if kind in ("function_call_output", "custom_tool_call_output"):
        result = {
            "type": "tool_result",
            "tool_use_id": str(item.get("call_id", "")),
            "content": _output(item.get("output")) or "(no output)",
        }
        return {"type": "message", "role": "tool_result", "content": [result]}
    if kind not in KNOWN_ITEMS:
        out.unknown[f"response_item {kind}"] += 1
    return None


def _message(item: dict[str, Any]) -> dict[str, Any] | None:
    role = item.get("role")
    text = text_of(item.get("content"))
    if role not in ("user", "assistant") or not text.strip():
        return None  # developer and system messages are Codex's own instructions
    if role == "user" and text.lstrip().startswith(_BOILERPLATE):
        return None
    return {"type": "message", "role": role, "content": [{"type": "text", "text": text}]}


def _call(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "local_shell_call":
        action = item.get("action") if isinstance(item.get("action"), dict) else {}
        name, tool_input = "shell", {"command": action.get("command")}
    elif kind == "custom_tool_call":
        name, tool_input = str(item.get("name", "tool")), {"input": item.get("input")}
    else:
        name, tool_input = str(item.get("name", "tool")), _arguments(item.get("arguments"))
    call_id = item.get("call_id") or item.get("id") or ""
    block = {"type": "tool_use", "id": str(call_id), "name": name, "input": tool_input}
    return {"type": "message", "role": "assistant", "content": [block]}


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"arguments": raw}


def _output(raw: Any) -> str:
    """A tool's output: a string (older ones JSON ``{output, metadata}``) or content parts."""
    if isinstance(raw, dict):
        raw = raw.get("content", raw.get("output", ""))
    if isinstance(raw, list):
        return text_of(raw)
    if not isinstance(raw, str):
        return ""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, dict) and isinstance(value.get("output"), str):
        return value["output"]
    return raw


def _compacted(payload: dict[str, Any]) -> dict[str, Any] | None:
    summary = payload.get("message")
    if not isinstance(summary, str) or not summary.strip():
        return None
    return {"type": "compaction", "summary": summary, "firstKeptEntryId": (NEXT_REF, None)}
