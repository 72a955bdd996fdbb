"""read_file: a text file with line numbers, paged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_ls.agent.tools.base import (
    PATH_SCHEMA,
    Tool,
    ToolContext,
    ToolError,
    ToolOutcome,
    integer,
    string,
)
from agent_ls.agent.tools.files import read_text
from agent_ls.agent.tools.truncate import MAX_LINE_CHARS, MAX_RESULT_CHARS

READ_LIMIT_LINES = 2000


async def read_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path = ctx.path(string(tool_input, "path"))
    offset = integer(tool_input, "offset", 1, 1, 10**9)
    limit = integer(tool_input, "limit", READ_LIMIT_LINES, 1, READ_LIMIT_LINES)
    text = read_text(ctx, path)
    lines = text.splitlines()
    if not lines:
        return ToolOutcome(text=f"{ctx.show(path)} is empty.")
    if offset > len(lines):
        raise ToolError(f"offset {offset} is past the end ({len(lines)} lines)")
    chosen = lines[offset - 1 : offset - 1 + limit]
    out: list[str] = []
    size = 0
    for number, line in enumerate(chosen, start=offset):
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + " …[line truncated]"
        size += len(line) + 8
        if size > MAX_RESULT_CHARS:
            break
        out.append(f"{number:>6}\t{line}")
    last = offset + len(out) - 1
    if last < len(lines):
        out.append(
            f"[{len(lines)} lines in all; showing {offset}-{last}: read on with offset={last + 1}]"
        )
    return ToolOutcome(text="\n".join(out))


TOOL = Tool(
    "read_file",
    "read",
    "Read a text file with line numbers (`number<TAB>text`). Shows the editor's unsaved "
    f"text when the file is open. At most {READ_LIMIT_LINES} lines per call: use offset "
    "and limit to page through long files. Refuses binary files.",
    {
        "type": "object",
        "properties": {
            "path": PATH_SCHEMA,
            "offset": {"type": "integer", "minimum": 1, "description": "First line (1-based)."},
            "limit": {"type": "integer", "minimum": 1, "description": "How many lines."},
        },
        "required": ["path"],
    },
    read_file,
    lambda tool_input: f"Read {tool_input.get('path') or '?'}",
)
