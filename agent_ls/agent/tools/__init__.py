"""The agent's tools: one module each, holding its schema, its work and its title.

Every path goes through `files.confine`; every file access goes through the `ToolHost` (so
reads see unsaved editor text and writes are checkpointed); only regular files are opened. A
failing tool never raises out of `execute`: the failure becomes an error result the model can
read and react to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_ls.agent.events import ToolCallContent, ToolCallStarted, ToolKind
from agent_ls.agent.host import ToolHost
from agent_ls.agent.tools import edit_file, grep, list_files, read_file, run_command, write_file
from agent_ls.agent.tools.base import Tool, ToolContext, ToolError, ToolOutcome, error
from agent_ls.files.confine import OutsideWorkspace, confine
from agent_ls.files.regular import NotRegularFile

TOOLS: dict[str, Tool] = {
    module.TOOL.name: module.TOOL
    for module in (read_file, list_files, grep, edit_file, write_file, run_command)
}


def tool_definitions() -> list[dict[str, Any]]:
    """The tools parameter of a Messages API request."""
    return [tool.definition() for tool in TOOLS.values()]


def describe_call(
    tool_use_id: str, name: str, tool_input: Mapping[str, Any], host: ToolHost
) -> ToolCallStarted:
    """The pending ToolCallStarted event for a tool_use block: title, kind, locations."""
    tool = TOOLS.get(name)
    kind: ToolKind = tool.kind if tool else "other"
    locations: list[str] = []
    raw_path = tool_input.get("path")
    if isinstance(raw_path, str) and raw_path:
        with contextlib.suppress(OutsideWorkspace):
            locations.append(str(confine(host.roots, raw_path)))
    return ToolCallStarted(
        tool_call_id=tool_use_id,
        title=tool.title(tool_input) if tool else f"Unknown tool {name}",
        kind=kind,
        raw_input=dict(tool_input),
        locations=locations,
    )


async def execute(name: str, tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolOutcome:
    """Run a tool; every failure (but cancellation) becomes an error outcome."""
    tool = TOOLS.get(name)
    if tool is None:
        return error(f"there is no tool named {name!r}; the tools are: {', '.join(TOOLS)}")
    if not isinstance(tool_input, Mapping):
        return error("the tool input must be a JSON object")
    try:
        return await tool.run(ctx, tool_input)
    except (ToolError, OutsideWorkspace) as exc:
        return error(str(exc))
    except NotRegularFile as exc:
        return error(
            f"{_shown(ctx, exc)} is {exc.kind}, not a regular file; "
            "the tools only read and write regular files"
        )
    except FileNotFoundError as exc:
        return error(f"no such file or directory: {_shown(ctx, exc)}")
    except IsADirectoryError as exc:
        return error(f"{_shown(ctx, exc)} is a directory; use list_files")
    except PermissionError as exc:
        return error(f"permission denied: {_shown(ctx, exc)}")
    except OSError as exc:
        return error(f"{type(exc).__name__}: {exc.strerror or exc}")
    except Exception as exc:  # a tool bug must not end the turn; the model sees what happened
        return error(f"{name} failed: {type(exc).__name__}: {exc}")


def preview(name: str, tool_input: Mapping[str, Any], ctx: ToolContext) -> list[ToolCallContent]:
    """What the call would change, without changing it; nothing when the tool has no preview or
    the call would fail (it says why when it runs)."""
    tool = TOOLS.get(name)
    if tool is None or tool.preview is None:
        return []
    try:
        return tool.preview(ctx, tool_input)
    except (ToolError, OutsideWorkspace, OSError, UnicodeDecodeError):
        return []


def _shown(ctx: ToolContext, exc: OSError) -> str:
    return ctx.show(Path(exc.filename)) if exc.filename else str(exc)


__all__ = [
    "TOOLS",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolOutcome",
    "describe_call",
    "execute",
    "preview",
    "tool_definitions",
]
