"""write_file: create a file or replace its whole content."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_ls.agent.events import DiffContent, TextContent, ToolCallContent
from agent_ls.agent.tools.base import PATH_SCHEMA, Tool, ToolContext, ToolError, ToolOutcome, string
from agent_ls.agent.tools.files import NotText, existing, read_text


def _planned(
    ctx: ToolContext, tool_input: Mapping[str, Any]
) -> tuple[Path, str, bool, str | None, str]:
    """The file, the new content, whether the file exists, its text (None: not shown as text),
    and why it is not shown."""
    path = ctx.path(string(tool_input, "path"), for_write=True)
    content = tool_input.get("content")
    if not isinstance(content, str):
        raise ToolError("content must be a string")
    exists = existing(path) is not None
    old: str | None = None
    hidden = ""
    if exists:
        try:
            old = read_text(ctx, path)
        except NotText as exc:
            hidden = exc.reason
    return path, content, exists, old, hidden


async def write_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path, content, exists, old, hidden = _planned(ctx, tool_input)
    shown = ctx.show(path)
    await ctx.host.write_text(path, content)
    lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    if not exists:
        text = f"Created {shown} ({lines} lines)."
        shown_content: list[ToolCallContent] = [DiffContent(str(path), None, content)]
    elif old is None:
        text = f"Overwrote {shown} ({lines} lines); the old file {hidden}, so no diff is shown."
        shown_content = [TextContent(text)]
    else:
        text = f"Wrote {shown} ({lines} lines)."
        shown_content = [DiffContent(str(path), old, content)]
    return ToolOutcome(text=text, content=shown_content)


def preview(ctx: ToolContext, tool_input: Mapping[str, Any]) -> list[ToolCallContent]:
    path, content, exists, old, hidden = _planned(ctx, tool_input)
    if exists and old is None:
        return [TextContent(f"Overwrite {ctx.show(path)}; the old file {hidden}.")]
    return [DiffContent(str(path), old, content)]


TOOL = Tool(
    "write_file",
    "edit",
    "Create a file, or replace a file's whole content. Parent directories are created. "
    "Prefer edit_file for changes to an existing file.",
    {
        "type": "object",
        "properties": {
            "path": PATH_SCHEMA,
            "content": {"type": "string", "description": "The complete new content."},
        },
        "required": ["path", "content"],
    },
    write_file,
    lambda tool_input: f"Write {tool_input.get('path') or '?'}",
    preview,
)
