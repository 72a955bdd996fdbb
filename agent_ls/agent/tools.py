"""The agent's tools: definitions the model sees, and their executors.

Every path goes through ``paths.confine``; every file access goes through the ``ToolHost`` (so
reads see unsaved editor text and writes are checkpointed). A failing tool never raises out of
``execute``: the failure becomes an error result the model can read and react to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_ls.gitignore import patterns

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec
from agent_ls.agent.config import DEFAULT_PERMISSIONS, Decision
from agent_ls.agent.events import (
    DiffContent,
    TextContent,
    ToolCallContent,
    ToolCallStarted,
    ToolKind,
)
from agent_ls.agent.host import CommandRun, ToolHost
from agent_ls.agent.paths import ToolError, confine, display_path

READ_LIMIT_LINES = 2000
MAX_LINE_CHARS = 2000
MAX_READ_BYTES = 10 * 1024 * 1024
MAX_RESULT_CHARS = 100_000
LIST_LIMIT = 1000
GREP_LIMIT = 200
GREP_MAX_FILE_BYTES = 2 * 1024 * 1024
COMMAND_OUTPUT_HEAD = 15_000
COMMAND_OUTPUT_TAIL = 15_000
MAX_COMMAND_TIMEOUT = 600.0
_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool produced: text for the model, content for the user's view."""

    text: str
    content: list[ToolCallContent] = field(default_factory=list)
    is_error: bool = False


@dataclass(frozen=True)
class ToolContext:
    """What an executor works with."""

    host: ToolHost
    command_timeout: float = 120.0

    def path(self, raw: Any, *, for_write: bool = False) -> Path:
        return confine(self.host.roots, raw, for_write=for_write)

    def show(self, path: Path) -> str:
        return display_path(self.host.roots, path)


Executor = Callable[[ToolContext, Mapping[str, Any]], Awaitable[ToolOutcome]]


@dataclass(frozen=True)
class Tool:
    """One tool: its schema for the model, its ACP kind, and how it runs."""

    name: str
    kind: ToolKind
    description: str
    schema: dict[str, Any]
    run: Executor

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.schema}


# --- permissions -------------------------------------------------------------------------------


class Permissions:
    """The permission policy of one session: configured decisions plus "always" answers.

    The service holds one per session and calls ``remember`` when the user picks allow-always or
    reject-always, so the same kind of call is not asked about again in that session.
    """

    def __init__(self, policy: Mapping[str, Decision] | None = None) -> None:
        self._policy: dict[str, Decision] = dict(policy or DEFAULT_PERMISSIONS)
        self._remembered: dict[str, Decision] = {}

    def decide(self, tool_name: str, kind: ToolKind) -> Decision:
        """A tool name in the policy wins over its kind; remembered answers win over both."""
        for key in (tool_name, kind):
            if key in self._remembered:
                return self._remembered[key]
        for key in (tool_name, kind):
            if key in self._policy:
                return self._policy[key]
        return "ask"

    def remember(self, call: ToolCallStarted, allow: bool) -> None:
        """Remember an allow-always / reject-always answer for this kind of call."""
        self._remembered[call.kind] = "allow" if allow else "deny"


async def authorize(
    call: ToolCallStarted, tool_name: str, permissions: Permissions, host: ToolHost
) -> str | None:
    """None when the call may run, else the reason it may not (told to the model)."""
    decision = permissions.decide(tool_name, call.kind)
    if decision == "allow":
        return None
    if decision == "deny":
        return f"{tool_name} is not allowed by the permission policy of this workspace"
    if await host.request_permission(call):
        return None
    return "the user declined this tool call; ask them how to proceed or try another approach"


# --- presentation ------------------------------------------------------------------------------


def describe_call(
    tool_use_id: str, name: str, tool_input: Mapping[str, Any], host: ToolHost
) -> ToolCallStarted:
    """The pending ToolCallStarted event for a tool_use block: title, kind, locations."""
    tool = TOOLS.get(name)
    kind: ToolKind = tool.kind if tool else "other"
    locations: list[str] = []
    raw_path = tool_input.get("path")
    if isinstance(raw_path, str) and raw_path:
        with contextlib.suppress(ToolError):
            locations.append(str(confine(host.roots, raw_path)))
    return ToolCallStarted(
        tool_call_id=tool_use_id,
        title=_title(name, tool_input),
        kind=kind,
        raw_input=dict(tool_input),
        locations=locations,
    )


def _title(name: str, tool_input: Mapping[str, Any]) -> str:
    path = tool_input.get("path")
    if name == "run_command":
        return f"Run `{_short(str(tool_input.get('command', '')), 80)}`"
    if name == "grep":
        where = f" in {path}" if path else ""
        return f"Search `{_short(str(tool_input.get('pattern', '')), 60)}`{where}"
    if name == "list_files":
        return f"List {tool_input.get('pattern') or '*'} in {path or '.'}"
    labels = {"read_file": "Read", "edit_file": "Edit", "write_file": "Write"}
    if name in labels:
        return f"{labels[name]} {path or '?'}"
    return f"Unknown tool {name}"


def _short(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


# --- execution ---------------------------------------------------------------------------------


async def execute(name: str, tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolOutcome:
    """Run a tool; every failure (but cancellation) becomes an error outcome."""
    tool = TOOLS.get(name)
    if tool is None:
        return _error(f"there is no tool named {name!r}; the tools are: {', '.join(TOOLS)}")
    if not isinstance(tool_input, Mapping):
        return _error("the tool input must be a JSON object")
    try:
        return await tool.run(ctx, tool_input)
    except ToolError as exc:
        return _error(str(exc))
    except FileNotFoundError as exc:
        return _error(f"no such file or directory: {_shown_error_path(ctx, exc)}")
    except IsADirectoryError as exc:
        return _error(f"{_shown_error_path(ctx, exc)} is a directory; use list_files")
    except PermissionError as exc:
        return _error(f"permission denied: {_shown_error_path(ctx, exc)}")
    except OSError as exc:
        return _error(f"{type(exc).__name__}: {exc.strerror or exc}")
    except Exception as exc:  # a tool bug must not end the turn; the model sees what happened
        return _error(f"{name} failed: {type(exc).__name__}: {exc}")


def _error(text: str) -> ToolOutcome:
    return ToolOutcome(text=text, content=[TextContent(text)], is_error=True)


def _shown_error_path(ctx: ToolContext, exc: OSError) -> str:
    return ctx.show(Path(exc.filename)) if exc.filename else str(exc)


def _string(tool_input: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = tool_input.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ToolError(f"{key} must be a non-empty string")
    return value


def _int(tool_input: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = tool_input.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ToolError(f"{key} must be an integer from {low} to {high}")
    return value


def _read(ctx: ToolContext, path: Path) -> str:
    """Text through the host (buffer first), refusing what is not text."""
    if path.is_dir():
        raise IsADirectoryError(0, "is a directory", str(path))
    with contextlib.suppress(OSError):
        if path.stat().st_size > MAX_READ_BYTES:
            raise ToolError(f"{ctx.show(path)} is larger than {MAX_READ_BYTES // 1024 // 1024} MB")
    try:
        text = ctx.host.read_text(path)
    except UnicodeDecodeError as exc:
        raise ToolError(f"{ctx.show(path)} is not UTF-8 text (binary file?)") from exc
    if "\x00" in text[:8192]:
        raise ToolError(f"{ctx.show(path)} looks binary; it cannot be shown as text")
    return text


async def read_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path = ctx.path(_string(tool_input, "path"))
    offset = _int(tool_input, "offset", 1, 1, 10**9)
    limit = _int(tool_input, "limit", READ_LIMIT_LINES, 1, READ_LIMIT_LINES)
    text = _read(ctx, path)
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


class _IgnoreRules:
    """.gitignore files found while walking, each applied below its own directory."""

    def __init__(self) -> None:
        self._specs: list[tuple[Path, GitIgnoreSpec]] = []

    def load(self, directory: Path) -> None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            lines = (directory / ".gitignore").read_text(encoding="utf-8").splitlines()
            self._specs.append((directory, patterns(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for base, spec in self._specs:
            if path.is_relative_to(base) and path != base:
                relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
                if spec.match_file(relative):
                    return True
        return False


def walk_files(start: Path, roots: Sequence[Path]) -> Iterator[Path]:
    """Files under ``start`` in sorted order, skipping .git and whatever .gitignore excludes
    (the .gitignore files of the root down to ``start`` included), never leaving the roots."""
    rules = _IgnoreRules()
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    root = next((r for r in real_roots if start.is_relative_to(r)), start)
    for directory in reversed([p for p in (start, *start.parents) if p.is_relative_to(root)]):
        rules.load(directory)
    for directory, dirnames, filenames in os.walk(start):
        here = Path(directory)
        if here != start:
            rules.load(here)
        dirnames[:] = sorted(
            d for d in dirnames if d != ".git" and not rules.ignored(here / d, is_dir=True)
        )
        for name in sorted(filenames):
            path = here / name
            if rules.ignored(path, is_dir=False):
                continue
            if path.is_symlink() and not any(
                Path(os.path.realpath(path)).is_relative_to(r) for r in real_roots
            ):
                continue
            yield path


async def list_files(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    start = ctx.path(_string(tool_input, "path", required=False) or ".")
    if not start.is_dir():
        raise ToolError(f"{ctx.show(start)} is not a directory")
    pattern = _string(tool_input, "pattern", required=False)
    limit = _int(tool_input, "limit", LIST_LIMIT, 1, LIST_LIMIT)
    spec = patterns([pattern]) if pattern else None
    found: list[str] = []
    more = False
    for count, path in enumerate(walk_files(start, ctx.host.roots)):
        if count % 200 == 0:
            await asyncio.sleep(0)
        if spec is not None and not spec.match_file(path.relative_to(start).as_posix()):
            continue
        if len(found) == limit:
            more = True
            break
        found.append(ctx.show(path))
    if not found:
        return ToolOutcome(text=f"No files match {pattern or '*'} in {ctx.show(start)}.")
    if more:
        found.append(f"[more than {limit} files; narrow the pattern or the path]")
    return ToolOutcome(text="\n".join(found))


async def grep(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    raw_pattern = _string(tool_input, "pattern")
    flags = re.IGNORECASE if tool_input.get("case_insensitive") else 0
    try:
        regex = re.compile(raw_pattern, flags)
    except re.error as exc:
        raise ToolError(f"invalid regular expression: {exc}") from exc
    start = ctx.path(_string(tool_input, "path", required=False) or ".")
    glob = _string(tool_input, "glob", required=False)
    spec = patterns([glob]) if glob else None
    limit = _int(tool_input, "max_matches", GREP_LIMIT, 1, 1000)
    files = [start] if start.is_file() else walk_files(start, ctx.host.roots)
    matches: list[str] = []
    for count, path in enumerate(files):
        if count % 50 == 0:
            await asyncio.sleep(0)
        if (
            spec is not None
            and path != start
            and not spec.match_file(path.relative_to(start).as_posix())
        ):
            continue
        try:
            if path.stat().st_size > GREP_MAX_FILE_BYTES:
                continue
            text = ctx.host.read_text(path)
        except (OSError, UnicodeDecodeError):
            continue
        if "\x00" in text[:8192]:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if regex.search(line):
                matches.append(f"{ctx.show(path)}:{number}:{_short_line(line)}")
                if len(matches) > limit:
                    matches[-1] = f"[more than {limit} matches; narrow the pattern, path or glob]"
                    return ToolOutcome(text="\n".join(matches))
    if not matches:
        return ToolOutcome(text=f"No matches for {raw_pattern} in {ctx.show(start)}.")
    return ToolOutcome(text="\n".join(matches))


def _short_line(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 300 else line[:300] + "…"


async def edit_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path = ctx.path(_string(tool_input, "path"), for_write=True)
    old = _string(tool_input, "old_string")
    new = tool_input.get("new_string")
    if not isinstance(new, str):
        raise ToolError("new_string must be a string")
    if old == new:
        raise ToolError("old_string and new_string are the same; nothing to change")
    shown = ctx.show(path)
    try:
        text = _read(ctx, path)
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
    await ctx.host.write_text(path, updated)
    done = f"{count} occurrences" if replace_all and count > 1 else "1 occurrence"
    return ToolOutcome(
        text=f"Edited {shown}: replaced {done}.", content=[DiffContent(str(path), text, updated)]
    )


async def write_file(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    path = ctx.path(_string(tool_input, "path"), for_write=True)
    content = tool_input.get("content")
    if not isinstance(content, str):
        raise ToolError("content must be a string")
    if path.is_dir():
        raise ToolError(f"{ctx.show(path)} is a directory")
    try:
        old: str | None = _read(ctx, path)
    except (FileNotFoundError, ToolError):
        old = None
    await ctx.host.write_text(path, content)
    verb = "Created" if old is None else "Wrote"
    lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    return ToolOutcome(
        text=f"{verb} {ctx.show(path)} ({lines} lines).",
        content=[DiffContent(str(path), old, content)],
    )


async def run_command(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    command = _string(tool_input, "command")
    timeout = tool_input.get("timeout", ctx.command_timeout)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ToolError("timeout must be a positive number of seconds")
    timeout = min(float(timeout), MAX_COMMAND_TIMEOUT)
    if not ctx.host.roots:
        raise ToolError("no workspace folder is open to run the command in")
    quiet = {"PAGER": "cat", "GIT_PAGER": "cat", "TERM": "dumb", "NO_COLOR": "1"}
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV} | quiet
    async with ctx.host.watch_command():
        ran = await ctx.host.run_command(command, ctx.host.roots[0], quiet, timeout)
        if ran is not None:
            return _ran_outcome(ran, timeout)
        proc = await asyncio.create_subprocess_shell(
            command,
            cwd=ctx.host.roots[0],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        output = _CappedOutput()
        try:
            assert proc.stdout is not None
            await asyncio.wait_for(_drain(proc, output), timeout)
        except TimeoutError:
            await _kill_group(proc)
            text = output.text()
            return ToolOutcome(
                text=f"Timed out after {timeout:g} s; the command was killed.\n{text}",
                content=[TextContent(text)],
                is_error=True,
            )
        except BaseException:
            await _kill_group(proc)
            raise
    text = output.text()
    summary = f"Exit code {proc.returncode}" + ("" if text else " (no output)")
    return ToolOutcome(
        text=f"{summary}\n{text}".rstrip("\n"), content=[TextContent(text or summary)]
    )


def _ran_outcome(ran: CommandRun, timeout: float) -> ToolOutcome:
    """What a command run in the editor's terminal tells the model."""
    if ran.timed_out:
        text = f"Timed out after {timeout:g} s; the command was killed.\n{ran.output}"
        return ToolOutcome(text=text, content=[TextContent(ran.output)], is_error=True)
    end = f"Exit code {ran.exit_code}" if ran.signal is None else f"Killed by {ran.signal}"
    summary = end + ("" if ran.output else " (no output)")
    return ToolOutcome(
        text=f"{summary}\n{ran.output}".rstrip("\n"), content=[TextContent(ran.output or summary)]
    )


async def _drain(proc: asyncio.subprocess.Process, output: _CappedOutput) -> None:
    assert proc.stdout is not None
    while chunk := await proc.stdout.read(65536):
        output.add(chunk)
    await proc.wait()


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """Kill the command and everything it started (it leads its own process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(Exception):
        await asyncio.shield(asyncio.wait_for(proc.wait(), 5))


class _CappedOutput:
    """Keeps the head and the tail of a command's output, whatever its size."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = COMMAND_OUTPUT_HEAD - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > COMMAND_OUTPUT_TAIL:
            cut = len(self.tail) - COMMAND_OUTPUT_TAIL
            self.dropped += cut
            del self.tail[:cut]

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if self.dropped:
            return f"{head}\n[… {self.dropped} bytes of output left out …]\n{tail}"
        return head + tail


# --- the tool set ------------------------------------------------------------------------------

_PATH = {
    "type": "string",
    "description": "File path, relative to the first workspace folder or absolute.",
}

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "read_file",
            "read",
            "Read a text file with line numbers (`number<TAB>text`). Shows the editor's unsaved "
            f"text when the file is open. At most {READ_LIMIT_LINES} lines per call: use offset "
            "and limit to page through long files. Refuses binary files.",
            {
                "type": "object",
                "properties": {
                    "path": _PATH,
                    "offset": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "First line (1-based).",
                    },
                    "limit": {"type": "integer", "minimum": 1, "description": "How many lines."},
                },
                "required": ["path"],
            },
            read_file,
        ),
        Tool(
            "list_files",
            "search",
            "List files under a directory, skipping .git and everything .gitignore excludes. "
            "pattern is a gitignore-style glob relative to path: `*.py` matches at any depth, "
            f"`src/**/*.ts` only under src. At most {LIST_LIMIT} paths.",
            {
                "type": "object",
                "properties": {
                    "path": {**_PATH, "description": "Directory to list (default: the workspace)."},
                    "pattern": {"type": "string", "description": "Glob filter, e.g. `*.py`."},
                    "limit": {"type": "integer", "minimum": 1},
                },
            },
            list_files,
        ),
        Tool(
            "grep",
            "search",
            "Search file contents with a Python regular expression, line by line, skipping .git, "
            "ignored and binary files. Prints `path:line:text` for each match "
            f"(at most {GREP_LIMIT} by default).",
            {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "Regular expression."},
                    "path": {**_PATH, "description": "File or directory (default: the workspace)."},
                    "glob": {"type": "string", "description": "Only files matching, e.g. `*.py`."},
                    "case_insensitive": {"type": "boolean"},
                    "max_matches": {"type": "integer", "minimum": 1},
                },
                "required": ["pattern"],
            },
            grep,
        ),
        Tool(
            "edit_file",
            "edit",
            "Replace an exact piece of text in a file. old_string must match the current text "
            "exactly (whitespace included) and be unique in the file unless replace_all is set; "
            "include enough surrounding lines to make it unique. Read the file first.",
            {
                "type": "object",
                "properties": {
                    "path": _PATH,
                    "old_string": {"type": "string", "description": "Exact text to replace."},
                    "new_string": {"type": "string", "description": "Replacement text."},
                    "replace_all": {"type": "boolean", "description": "Replace every occurrence."},
                },
                "required": ["path", "old_string", "new_string"],
            },
            edit_file,
        ),
        Tool(
            "write_file",
            "edit",
            "Create a file, or replace a file's whole content. Parent directories are created. "
            "Prefer edit_file for changes to an existing file.",
            {
                "type": "object",
                "properties": {
                    "path": _PATH,
                    "content": {"type": "string", "description": "The complete new content."},
                },
                "required": ["path", "content"],
            },
            write_file,
        ),
        Tool(
            "run_command",
            "execute",
            "Run a shell command (bash -c style) in the first workspace folder and return its "
            "exit code and combined stdout/stderr (long output keeps its head and tail). No "
            "stdin; interactive programs will not work. The user may be asked to approve it. "
            "Default timeout 120 s.",
            {
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The command line."},
                    "timeout": {"type": "number", "description": "Seconds before it is killed."},
                },
                "required": ["command"],
            },
            run_command,
        ),
    )
}


def tool_definitions() -> list[dict[str, Any]]:
    """The tools parameter of a Messages API request."""
    return [tool.definition() for tool in TOOLS.values()]
