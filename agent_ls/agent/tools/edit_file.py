"""edit_file: replace an exact piece of text in a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_ls.agent.events import DiffContent, ToolCallContent
from agent_ls.agent.tools.base import PATH_SCHEMA, Tool, ToolContext, ToolError, ToolOutcome, string
from agent_ls.agent.tools.files import read_text


def _edited(ctx: ToolContext, tool_input: Mapping[str, Any]) -> tuple[Path, str, str, int]:
    """The file, its text, its text after the edit, and how many occurrences were replaced."""
    path = ctx.path(string(tool_input, "path"), for_write=True)
    old = string(tool_input, "old_string")
    new = tool_input.get("new_string")
    if not isinstance(new, str):
        raise ToolError("new_string must be a string")
    if old == new:
        raise ToolError("old_string and new_string are the same; nothing to change")
    shown = ctx.show(path)
    try:
        text = read_text(ctx, path)
    except FileNotFoundError as exc:
        raise ToolError(f"{shown} does not exist; use write_file to create it") from exc
    count = text.count(old)
    if count == 0:
        raise ToolError(
            f"old_string was not found in {shown}; it must match the current text exactly "
            "(whitespace and indentation included): read_file it again and copy the text"
        )
    replace_all = bool(tool_input.get("replace_all"))
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_string appears {count} times in {shown}; include more surrounding lines to make "
            "it unique, or set replace_all to change every occurrence"
        )
    updated = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    return path, text, updated, count if replace_all else 1


async def edit_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path, text, updated, count = _edited(ctx, tool_input)
    await ctx.host.write_text(path, updated)
    done = f"{count} occurrences" if count > 1 else "1 occurrence"
    return ToolOutcome(
        text=f"Edited {ctx.show(path)}: replaced {done}.",
        content=[DiffContent(str(path), text, updated)],
    )


def preview(ctx: ToolContext, tool_input: Mapping[str, Any]) -> list[ToolCallContent]:
    path, text, updated, _ = _edited(ctx, tool_input)
    return [DiffContent(str(path), text, updated)]


TOOL = Tool(
    "edit_file",
    "edit",
    "Replace an exact piece of text in a file. old_string must match the current text "
    "exactly (whitespace included) and be unique in the file unless replace_all is set; "
    "include enough surrounding lines to make it unique. Read the file first.",
    {
        "type": "object",
        "properties": {
            "path": PATH_SCHEMA,
            "old_string": {"type": "string", "description": "Exact text to replace."},
            "new_string": {"type": "string", "description": "Replacement text."},
            "replace_all": {"type": "boolean", "description": "Replace every occurrence."},
        },
        "required": ["path", "old_string", "new_string"],
    },
    edit_file,
    lambda tool_input: f"Edit {tool_input.get('path') or '?'}",
    preview,
)
