"""write_file: create a file or replace its whole content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_ls.agent.events import DiffContent, TextContent, ToolCallContent
from agent_ls.agent.tools.base import PATH_SCHEMA, Tool, ToolContext, ToolError, ToolOutcome, string
from agent_ls.agent.tools.files import NotText, existing, read_text


async def write_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path = ctx.path(string(tool_input, "path"), for_write=True)
    content = tool_input.get("content")
    if not isinstance(content, str):
        raise ToolError("content must be a string")
    shown = ctx.show(path)
    before = existing(path)
    old: str | None = None
    hidden = ""
    if before is not None:
        try:
            old = read_text(ctx, path)
        except NotText as exc:
            hidden = exc.reason
    await ctx.host.write_text(path, content)
    lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    if before is None:
        text = f"Created {shown} ({lines} lines)."
        shown_content: list[ToolCallContent] = [DiffContent(str(path), None, content)]
    elif old is None:
        text = f"Overwrote {shown} ({lines} lines); the old file {hidden}, so no diff is shown."
        shown_content = [TextContent(text)]
    else:
        text = f"Wrote {shown} ({lines} lines)."
        shown_content = [DiffContent(str(path), old, content)]
    return ToolOutcome(text=text, content=shown_content)


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
)
