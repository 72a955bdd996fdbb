"""What a turn looks like in the terminal, drawn with rich.

Reply text is markdown: finished blocks are printed rendered and stay; the block still streaming
is shown live under them with a spinner and the elapsed time, so nothing is re-drawn twice.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import time
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.spinner import Spinner
from rich.text import Text

from agent_ls.cli.chat.prices import dollars

TAIL_LINES = 6
_HOW_IT_ENDED = re.compile(r"Exit code -?\d+|Killed by \w+")


def complete_blocks(text: str) -> int:
    """Where the finished markdown blocks of ``text`` end (0: none yet).

    A block ends at a blank line outside a code fence, so a fence is never cut in two.
    """
    end = 0
    fenced = False
    offset = 0
    for line in text.splitlines(keepends=True):
        offset += len(line)
        if not line.endswith("\n"):
            break
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and not line.strip():
            end = offset
    return end


def diff_text(path: str, old: str | None, new: str | None) -> Text:
    """The unified diff of two texts, coloured."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    return color_diff("".join(line if line.endswith("\n") else line + "\n" for line in lines))


def color_diff(diff: str) -> Text:
    """A unified diff, indented, additions green and removals red."""
    shown = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = {"+": "green", "-": "red"}.get(line[:1], "dim")
        shown.append("  " + line + "\n", style=style)
    shown.rstrip()
    return shown


def collapsed(thought: str) -> str:
    """Thinking folded to one line: its start and how much more there is."""
    lines = thought.splitlines()
    first = lines[0] if len(lines[0]) <= 80 else lines[0][:79] + "…"
    more = f", {len(lines)} lines" if len(lines) > 1 else ""
    return f"▸ thinking: {first} (/thinking shows it all{more})"


def tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = text.rstrip("\n").splitlines()
    cut = len(kept) - lines
    return "\n".join(([f"… {cut} more lines"] if cut > 0 else []) + kept[-lines:])


class _Status:
    """The live line: a spinner, what the turn is doing, how long it has taken, its tokens.

    Output tokens are the API's count for finished requests plus an estimate (about four
    characters a token, marked ~) for the one still streaming.
    """

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.doing = "thinking"
        self.spinner = Spinner("dots", style="cyan")
        self.tokens = 0
        self.streamed = 0  # characters of the request still streaming

    def stream(self, chunk: str) -> None:
        self.streamed += len(chunk)

    def reported(self, output_tokens: int) -> None:
        """A request ended: its real count replaces the estimate."""
        self.tokens += output_tokens
        self.streamed = 0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        seconds = int(time.monotonic() - self.started)
        estimate = self.streamed // 4
        tokens = f"{'~' if estimate else ''}{self.tokens + estimate:,} tokens"
        self.spinner.text = Text(
            f"{self.doing} · {seconds}s · ↓ {tokens} · Ctrl-C cancels", style="dim"
        )
        yield self.spinner


class TurnView:
    """One turn on screen: streamed markdown, tool lines, the live status."""

    def __init__(
        self, console: Console, workspace: Path | None = None, expand_thinking: bool = False
    ) -> None:
        self.console = console
        self.workspace = workspace
        self.expand_thinking = expand_thinking
        self.pending = ""
        self.thought = ""
        self.thoughts: list[str] = []  # the turn's thinking, in full, for /thinking
        self.reply = ""  # the raw text of the turn's replies, for /copy
        self.titles: dict[str, tuple[str, str]] = {}
        self.status = _Status()
        self.live: Live | None = None

    def _rel(self, path: str) -> str:
        """A path as the user thinks of it: relative to the workspace when inside it."""
        if self.workspace is not None and os.path.isabs(path):
            with contextlib.suppress(ValueError):
                return str(Path(path).relative_to(self.workspace))
        return path

    # -- the live area -------------------------------------------------------------------------

    def _live_view(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self.thought:
            parts.append(Text(tail(self.thought, 3), style="dim italic"))
        if self.pending:
            parts.append(Markdown(self.pending))
        parts.append(self.status)
        return Group(*parts)

    def start(self) -> None:
        if self.console.is_terminal:
            self.live = Live(
                get_renderable=self._live_view,
                console=self.console,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()

    def pause(self) -> None:
        """Take the live area down (before a question to the user); flushes what streamed."""
        self.flush()
        if self.live is not None:
            self.live.stop()
            self.live = None

    def stop(self) -> None:
        self.pause()

    # -- events --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Print what is still pending, rendered, so it stays on screen."""
        if self.thought.strip():
            thought = self.thought.strip()
            self.thoughts.append(thought)
            shown = thought if self.expand_thinking else collapsed(thought)
            self.console.print(Text(shown, style="dim italic"))
        self.thought = ""
        if self.pending.strip():
            self.console.print(Markdown(self.pending))
        self.pending = ""

    def text(self, chunk: str) -> None:
        if self.thought:
            self.flush()
        self.reply += chunk
        self.pending += chunk
        self.status.stream(chunk)
        self.status.doing = "writing"
        end = complete_blocks(self.pending)
        if end:
            done, self.pending = self.pending[:end], self.pending[end:]
            if done.strip():
                self.console.print(Markdown(done))

    def think(self, chunk: str) -> None:
        self.thought += chunk
        self.status.stream(chunk)
        self.status.doing = "thinking"

    def tool_call(self, update: dict[str, Any]) -> None:
        self.flush()
        title = str(update.get("title") or update.get("toolCallId"))
        self.titles[update["toolCallId"]] = (title, str(update.get("toolKind") or "other"))
        self.status.doing = title

    def tool_update(self, update: dict[str, Any]) -> None:
        status = update.get("status")
        if status not in ("completed", "failed"):
            return
        self.flush()
        title, kind = self.titles.get(update["toolCallId"], (update["toolCallId"], "other"))
        ok = status == "completed"
        line = Text()
        line.append("✓ " if ok else "✗ ", style="green" if ok else "red")
        line.append(title, style="cyan" if ok else "red")
        self.console.print(line)
        for item in update.get("content") or []:
            if item.get("type") == "diff":
                path = self._rel(item["path"])
                self.console.print(diff_text(path, item["oldText"], item["newText"]))
            elif item.get("type") == "content" and (kind == "execute" or not ok):
                text = tail(str(item["content"].get("text", "")))
                if text:
                    style = "dim" if ok else "red"
                    self.console.print(Text("  " + text.replace("\n", "\n  "), style=style))
        self.status.doing = "thinking"

    def checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.flush()
        files = ", ".join(
            f"{f['operation']} {self._rel(f['path'])}" for f in checkpoint.get("files", [])
        )
        self.console.print(Text(f"● checkpoint: {files} (/revert undoes this turn)", "magenta"))


def usage_line(
    usage: dict[str, Any], context: int, window: int, model: str, cost: float | None
) -> Text:
    """Tokens of the turn, what it cost (when the model's price is known), how full the context
    is, and the model."""
    parts = [f"{usage.get('inputTokens', 0):,} in", f"{usage.get('outputTokens', 0):,} out"]
    if usage.get("cacheReadInputTokens"):
        parts.append(f"{usage['cacheReadInputTokens']:,} cached")
    if cost is not None:
        parts.append(dollars(cost))
    if context:
        parts.append(f"context {context:,}/{window:,} ({100 * context / window:.0f}%)")
    if model:
        parts.append(model)
    return Text("[" + " · ".join(parts) + "]", style="dim")


TURN_ENDS = ("error", "cancelled", "max_turn_requests")  # the stop reasons a marker shows


def turn_end_marker(stop_reason: str, error: str | None) -> Text:
    """How a cancelled, failed or cut-short turn ends on screen, live and after a reload alike."""
    if stop_reason == "cancelled":
        return Text("(cancelled)", style="yellow")
    if stop_reason == "error":
        return Text(f"✗ {error or 'the turn failed'} (/retry sends it again)", style="red")
    return Text(f"(stopped: {error or stop_reason})", style="yellow")


def prompt_text(content: list[dict[str, Any]] | str) -> str:
    """The text of a stored prompt."""
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")


def result_update(block: dict[str, Any]) -> dict[str, Any]:
    """A stored tool_result as the tool_call_update that reported it live, so a reloaded tool
    line has the same mark and command tail."""
    content = block.get("content")
    text = content if isinstance(content, str) else prompt_text(content or [])
    head, _, rest = text.partition("\n")
    if _HOW_IT_ENDED.fullmatch(head):  # stored first for the model, shown last as live
        text = f"{rest.rstrip()}\n{head}"
    return {
        "toolCallId": block.get("tool_use_id"),
        "status": "failed" if block.get("is_error") else "completed",
        "content": [{"type": "content", "content": {"type": "text", "text": text}}],
    }
