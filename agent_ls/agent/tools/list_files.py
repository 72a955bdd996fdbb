"""list_files: the files under a folder that git would show, optionally filtered by a glob."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
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
from agent_ls.agent.tools.files import workspace_files

LIST_LIMIT = 1000


async def list_files(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    start = ctx.path(string(tool_input, "path", required=False) or ".")
    if not start.is_dir():
        raise ToolError(f"{ctx.show(start)} is not a directory")
    pattern = string(tool_input, "pattern", required=False)
    limit = integer(tool_input, "limit", LIST_LIMIT, 1, LIST_LIMIT)
    listing = await workspace_files(ctx, start, pattern)
    found = [ctx.show(Path(path)) for path in itertools.islice(listing.files, limit)]
    more = len(listing.files) > limit
    if more:
        found.append(f"[more than {limit} files; narrow the pattern or the path]")
    if not listing.complete:
        found.append(
            f"[the listing stopped after {ctx.search_timeout:g} s; narrow the path or pattern]"
        )
    if not found:
        return ToolOutcome(text=f"No files match {pattern or '*'} in {ctx.show(start)}.")
    return ToolOutcome(text="\n".join(found))


TOOL = Tool(
    "list_files",
    "search",
    "List the files under a directory that git would show: tracked files and untracked ones "
    "that .gitignore, .git/info/exclude and the global excludes file do not exclude (outside "
    "a git repository, .gitignore files apply). pattern is a gitignore-style glob relative to "
    f"path: `*.py` matches at any depth, `src/**/*.ts` only under src. At most {LIST_LIMIT} "
    "paths.",
    {
        "type": "object",
        "properties": {
            "path": {**PATH_SCHEMA, "description": "Directory to list (default: the workspace)."},
            "pattern": {"type": "string", "description": "Glob filter, e.g. `*.py`."},
            "limit": {"type": "integer", "minimum": 1},
        },
    },
    list_files,
    lambda tool_input: (
        f"List {tool_input.get('pattern') or '*'} in {tool_input.get('path') or '.'}"
    ),
)
