"""run_command: a shell command in the first workspace folder, in its own process group.

The group is killed on timeout and whenever the call ends early: a cancelled turn, and the
server's exit (stdin closed or SIGTERM: the server cancels every task on its way out).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from typing import Any

from agent_ls.agent.events import CommandOutput, TextContent
from agent_ls.agent.host import CommandRun
from agent_ls.agent.tools.base import Tool, ToolContext, ToolError, ToolOutcome, string
from agent_ls.agent.tools.truncate import CappedOutput, one_line, shown_tail

MAX_COMMAND_TIMEOUT = 600.0
_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


async def run_command(ctx: ToolContext, tool_input: Mapping[str, Any]) -> ToolOutcome:
    command = string(tool_input, "command")
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
        output = CappedOutput()
        try:
            await asyncio.wait_for(_drain(proc, output), timeout)
        except TimeoutError:
            await _kill_group(proc)
            return _outcome(output.text(), None, "SIGKILL", timeout)
        except BaseException:
            await _kill_group(proc)
            raise
    code = proc.returncode
    if code is not None and code < 0:  # killed by a signal (the shell's child got it)
        return _outcome(output.text(), None, _signal_name(-code), None)
    return _outcome(output.text(), code, None, None)


def _ran_outcome(ran: CommandRun, timeout: float) -> ToolOutcome:
    """What a command run in the editor's terminal tells the model."""
    if ran.timed_out:
        return _outcome(ran.output, None, ran.signal or "SIGKILL", timeout)
    return _outcome(ran.output, ran.exit_code, ran.signal, None)


def _outcome(
    output: str, exit_code: int | None, signal_name: str | None, timed_out: float | None
) -> ToolOutcome:
    """The whole capped output for the model; its tail and how it ended for the user."""
    if timed_out is not None:
        end = f"Timed out after {timed_out:g} s; the command was killed."
        tail, truncated = shown_tail(output, end)
        return ToolOutcome(
            text=f"{end}\n{output}",
            content=[TextContent(tail)],
            is_error=True,
            raw_output=CommandOutput(exit_code, signal_name, truncated),
        )
    end = f"Exit code {exit_code}" if signal_name is None else f"Killed by {signal_name}"
    summary = end + ("" if output else " (no output)")
    tail, truncated = shown_tail(output, end)
    return ToolOutcome(
        text=f"{summary}\n{output}".rstrip("\n"),
        content=[TextContent(tail)],
        raw_output=CommandOutput(exit_code, signal_name, truncated),
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


async def _drain(proc: asyncio.subprocess.Process, output: CappedOutput) -> None:
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


TOOL = Tool(
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
    lambda tool_input: f"Run `{one_line(str(tool_input.get('command', '')), 80)}`",
)
