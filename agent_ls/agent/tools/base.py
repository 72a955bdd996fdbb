"""What every tool is made of: its definition, the context it runs in, what it returns, and the
checks of its input."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_ls.agent.events import CommandOutput, TextContent, ToolCallContent, ToolKind
from agent_ls.agent.host import ToolHost
from agent_ls.files.confine import confine


class ToolError(Exception):
    """A tool cannot do what the model asked; the message goes back to the model."""


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool produced: text for the model, content for the user's view."""

    text: str
    content: list[ToolCallContent] = field(default_factory=list)
    is_error: bool = False
    raw_output: CommandOutput | None = None


def error(text: str) -> ToolOutcome:
    """A failed tool call, as the model and the user see it."""
    return ToolOutcome(text=text, content=[TextContent(text)], is_error=True)


@dataclass(frozen=True)
class ToolContext:
    """What a tool works with: the host, and the time limits of commands and searches."""

    host: ToolHost
    command_timeout: float = 120.0
    search_timeout: float = 30.0

    def path(self, raw: Any, *, for_write: bool = False) -> Path:
        """The confined, resolved path the model named (relative to the first root)."""
        if not isinstance(raw, str) or not raw.strip():
            raise ToolError("path must be a non-empty string")
        return confine(self.host.roots, raw, for_write=for_write)

    def show(self, path: Path) -> str:
        """The path as the model sees it (see `display_path`)."""
        return display_path(self.host.roots, path)


def display_path(roots: Sequence[Path], path: Path) -> str:
    """Relative to the first root (which is how relative paths resolve), absolute otherwise;
    bytes of a name that is not UTF-8 are shown escaped (`\\xff`), so every name can be sent."""
    shown = str(path)
    if roots:
        first = Path(os.path.realpath(roots[0]))
        if path.is_relative_to(first):
            shown = path.relative_to(first).as_posix()
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


Run = Callable[[ToolContext, Mapping[str, Any]], Awaitable[ToolOutcome]]
Title = Callable[[Mapping[str, Any]], str]
Preview = Callable[[ToolContext, Mapping[str, Any]], list[ToolCallContent]]
"""What a tool would change, computed without writing (shown when the user reviews the call)."""


@dataclass(frozen=True)
class Tool:
    """One tool: its schema for the model, its ACP kind, its title for the user, how it runs."""

    name: str
    kind: ToolKind
    description: str
    schema: dict[str, Any]
    run: Run
    title: Title
    preview: Preview | None = None

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.schema}


PATH_SCHEMA = {
    "type": "string",
    "description": "File path, relative to the first workspace folder or absolute.",
}


def string(tool_input: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = tool_input.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ToolError(f"{key} must be a non-empty string")
    return value


def integer(tool_input: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = tool_input.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ToolError(f"{key} must be an integer from {low} to {high}")
    return value
