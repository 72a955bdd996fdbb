"""pi's sessions (pi-mono's coding agent): ``~/.pi/agent/sessions/--<cwd>--/<time>_<id>.jsonl``.

The folder is the working directory without its leading slash, ``/``, ``\\`` and ``:`` turned
into ``-``, between ``--`` and ``--``. Line 1 is the header (``type: "session"``, ``version``,
``id``, ``timestamp``, ``cwd``). Version 1 files are a linear list of entries; from version 2
every entry has an ``id`` and a ``parentId`` (a tree, branches included; the leaf is the last
entry); version 3 renamed the ``hookMessage`` role to ``custom``. ``message`` entries hold an
agent message: ``user``, ``assistant`` (``text``, ``thinking``, ``toolCall`` blocks),
``toolResult``, ``bashExecution``, ``custom``, ``branchSummary``, ``compactionSummary``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from agent_ls.carry.converted import SOURCE_REF, Converted, Draft
from agent_ls.carry.sources.lines import read_objects, text_of
from agent_ls.carry.times import iso_ms

AGENT = "pi"
KNOWN = {
    "model_change",
    "thinking_level_change",
    "custom",
    "label",
    "session_info",
    "ephemeral",
    "context_transform",
}
_STOP = {"stop": "end_turn", "toolUse": "tool_use", "length": "max_tokens"}


class NotAPiSession(ValueError):
    """A file whose first line is not pi's session header."""


def root() -> Path:
    """pi's session folder (``$PI_CODING_AGENT_DIR`` overrides ``~/.pi/agent``)."""
    base = os.environ.get("PI_CODING_AGENT_DIR")
    return (Path(base) if base else Path.home() / ".pi" / "agent") / "sessions"


def folder_name(cwd: Path) -> str:
    """The folder pi derives from a working directory."""
    return "--" + re.sub(r"[/\\:]", "-", re.sub(r"^[/\\]", "", str(cwd))) + "--"


def session_files(folder: Path) -> list[Path]:
    """The sessions of one folder."""
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def parse(path: Path) -> Converted:
    """Read one pi session file (any version)."""
    objects, torn = read_objects(path)
    header = objects[0] if objects else {}
    if header.get("type") != "session" or not isinstance(header.get("id"), str):
        raise NotAPiSession(f"{path}: the first line is not a pi session header")
    version = header.get("version") if isinstance(header.get("version"), int) else 1
    created = iso_ms(header.get("timestamp")) or ""
    cwd = header["cwd"] if isinstance(header.get("cwd"), str) else None
    out = Converted(AGENT, header["id"], str(path), cwd, created, tree=version >= 2, torn=torn)
    ts = created
    for obj in objects[1:]:
        ts = iso_ms(obj.get("timestamp")) or ts
        kind = obj.get("type")
        source_id, parent = obj.get("id"), obj.get("parentId")
        body = _body(obj, out)
        if body is None:
            if kind == "session_info" and isinstance(obj.get("name"), str):
                out.title = obj["name"] or None
            elif kind not in KNOWN:
                out.unknown[str(kind)] += 1
            out.drop(source_id, parent)
            continue
        out.drafts.append(
            Draft(
                body,
                ts,
                source_id if isinstance(source_id, str) else None,
                parent if isinstance(parent, str) else None,
            )
        )
    return out


def _body(obj: dict[str, Any], out: Converted) -> dict[str, Any] | None:
    kind = obj.get("type")
    if kind == "message" and isinstance(obj.get("message"), dict):
        return _message(obj["message"], out)
    if kind == "compaction" and isinstance(obj.get("summary"), str):
        kept = obj.get("firstKeptEntryId")
        return {
            "type": "compaction",
            "summary": obj["summary"],
            "firstKeptEntryId": (SOURCE_REF, kept if isinstance(kept, str) else None),
        }
    if kind == "branch_summary" and isinstance(obj.get("summary"), str):
        return _user(f"Summary of another branch of this conversation:\n{obj['summary']}")
    if kind == "custom_message":
        return _user(text_of(obj.get("content"))) if text_of(obj.get("content")) else None
    return None


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def _message(message: dict[str, Any], out: Converted) -> dict[str, Any] | None:
    role = message.get("role")
    content = message.get("content")
    if role == "user":
        blocks = _user_blocks(content)
        return {"type": "message", "role": "user", "content": blocks} if blocks else None
    if role == "assistant":
        return _assistant(message)
    if role == "toolResult":
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": str(message.get("toolCallId", "")),
            "content": text_of(content) or "(no output)",
        }
        if message.get("isError"):
            result["is_error"] = True
        return {"type": "message", "role": "tool_result", "content": [result]}
    if role == "bashExecution" and isinstance(message.get("command"), str):
        if message.get("excludeFromContext"):
            return None
        code = message.get("exitCode")
        status = f" (exit {code})" if isinstance(code, int) else ""
        output = str(message.get("output") or "")
        return _user(f"I ran `{message['command']}`{status}:\n```\n{output}\n```")
    if role in ("custom", "hookMessage"):
        text = text_of(content)
        return _user(text) if text else None
    if role in ("branchSummary", "compactionSummary") and isinstance(message.get("summary"), str):
        return _user(message["summary"])
    out.unknown[f"message role {role}"] += 1
    return None


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            blocks.append({"type": "text", "text": block["text"]})
        elif block.get("type") == "image" and isinstance(block.get("data"), str):
            source = {"type": "base64", "media_type": block.get("mimeType"), "data": block["data"]}
            blocks.append({"type": "image", "source": source})
    return blocks


def _assistant(message: dict[str, Any]) -> dict[str, Any] | None:
    blocks: list[dict[str, Any]] = []
    for block in message.get("content") if isinstance(message.get("content"), list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            blocks.append({"type": "text", "text": block["text"]})
        elif kind == "thinking" and block.get("thinkingSignature"):
            signature = str(block["thinkingSignature"])
            thinking = str(block.get("thinking", ""))
            blocks.append({"type": "thinking", "thinking": thinking, "signature": signature})
        elif kind == "toolCall" and isinstance(block.get("name"), str):
            arguments = block.get("arguments")
            blocks.append(
                {
                    "type": "tool_use",
                    "id": str(block.get("id", "")),
                    "name": block["name"],
                    "input": arguments if isinstance(arguments, dict) else {},
                }
            )
    if not blocks:
        return None
    body: dict[str, Any] = {"type": "message", "role": "assistant", "content": blocks}
    if isinstance(message.get("model"), str):
        body["model"] = message["model"]
    usage = message.get("usage")
    if isinstance(usage, dict):
        counts = {"input_tokens": usage.get("input"), "output_tokens": usage.get("output")}
        body["usage"] = {k: v for k, v in counts.items() if isinstance(v, int)}
    stop = message.get("stopReason")
    if isinstance(stop, str):
        body["stopReason"] = _STOP.get(stop, stop)
    return body
