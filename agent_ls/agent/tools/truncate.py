"""Keeping what goes back to the model short: titles, matched lines, long command output."""

from __future__ import annotations

MAX_RESULT_CHARS = 100_000
MAX_LINE_CHARS = 2000
MATCH_LINE_CHARS = 300
COMMAND_OUTPUT_HEAD = 15_000
COMMAND_OUTPUT_TAIL = 15_000
SHOWN_TAIL_BYTES = 4096
SHOWN_TAIL_LINES = 40


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…"


def match_line(line: str) -> str:
    """A matched line as grep shows it: stripped, at most `MATCH_LINE_CHARS` characters."""
    line = line.strip()
    return line if len(line) <= MATCH_LINE_CHARS else line[:MATCH_LINE_CHARS] + "…"


class CappedOutput:
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


def shown_tail(output: str, last_line: str) -> tuple[str, bool]:
    """What a tool call shows of a command's output: its last lines, then `last_line` (how it
    ended), in at most `SHOWN_TAIL_LINES` lines and `SHOWN_TAIL_BYTES` bytes; and whether
    anything was left out (the model still gets the whole capped output)."""
    budget = SHOWN_TAIL_BYTES - len(last_line.encode("utf-8")) - 1
    lines = output.rstrip("\n").split("\n") if output.strip("\n") else []
    kept = lines[-(SHOWN_TAIL_LINES - 1) :]
    truncated = len(kept) < len(lines)
    data = "\n".join(kept).encode("utf-8")
    if len(data) > budget:
        data, truncated = data[len(data) - budget :], True
    text = data.decode("utf-8", errors="ignore")
    return (f"{text}\n{last_line}" if text else last_line), truncated
