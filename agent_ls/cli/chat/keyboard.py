"""Reading what the user types: prompt_toolkit on a terminal, plain lines from a pipe.

On a terminal the prompt has line editing, a history kept per workspace, multi-line input
(a bracketed paste is one prompt; Alt-Enter or Esc-Enter adds a newline), completion of
/commands and @paths, and Esc-Esc to edit the last prompt. Piped input (scripts, tests) is read
a line at a time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, FuzzyWordCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


class Interrupted(Exception):
    """Ctrl-C at a question: the answer is 'no'."""


def history_file(store_dir: Path) -> Path:
    """The workspace's prompt history, readable by its owner only."""
    path = store_dir / "chat-history"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    return path


class ChatCompleter(Completer):
    """/commands at the start of the line, @paths anywhere."""

    def __init__(self, commands: Iterable[str], files: Callable[[], list[str]]) -> None:
        self.commands = sorted(commands)
        self.files = files

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and " " not in before:
            for name in self.commands:
                if name.startswith(before[1:]):
                    yield Completion("/" + name, start_position=-len(before))
            return
        word = before.split(" ")[-1].split("\n")[-1]
        if word.startswith("@"):
            wanted = word[1:].lower()
            shown = 0
            for path in self.files():
                if wanted in path.lower():
                    yield Completion("@" + path, start_position=-len(word))
                    shown += 1
                    if shown == 50:
                        return


class Keyboard:
    """The prompt and the questions asked during a turn."""

    def __init__(
        self,
        history: Path | None,
        completer: Completer | None,
        last_prompt: Callable[[], str] = lambda: "",
    ) -> None:
        self.tty = sys.stdin.isatty() and sys.stdout.isatty()
        self._armed = False  # one Ctrl-C on an empty line: the next one quits
        self.last_prompt = last_prompt
        self.editing = False  # the line is the last prompt, edited (Esc-Esc)
        self.prefill = ""  # text the next prompt starts with
        if self.tty:
            self.session: PromptSession[str] = PromptSession(
                history=FileHistory(str(history)) if history else InMemoryHistory(),
                completer=completer,
                complete_while_typing=True,
                complete_in_thread=True,  # the first @path walks the workspace
                key_bindings=self._prompt_keys(),
                enable_open_in_editor=True,
            )

    def _prompt_keys(self) -> KeyBindings:
        keys = KeyBindings()

        @keys.add("escape", "enter")
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @keys.add("escape", "escape")
        def _edit_last(event: KeyPressEvent) -> None:
            text = self.last_prompt()
            if not text:
                return
            event.current_buffer.text = text
            event.current_buffer.cursor_position = len(text)
            self.editing = True
            run_in_terminal(
                lambda: print(
                    "(editing your last prompt: Enter sends it in its place, Ctrl-C drops it)"
                )
            )

        @keys.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            self.editing = False
            if buffer.text:
                buffer.reset()
                self._armed = False
            elif self._armed:
                event.app.exit(exception=EOFError())
            else:
                self._armed = True
                run_in_terminal(lambda: print("(Ctrl-C again or Ctrl-D quits)"))

        return keys

    async def line(self, prompt: str) -> str | None:
        """The next prompt, or None when the user quits (Ctrl-D, Ctrl-C twice, end of input)."""
        self.editing = False
        if not self.tty:
            return await _read_stdin(prompt)
        prefill, self.prefill = self.prefill, ""
        try:
            text = await self.session.prompt_async([("bold ansiblue", prompt)], default=prefill)
        except EOFError:
            return None
        self._armed = False
        return text

    async def ask(self, question: str) -> str:
        """A short answer; Ctrl-C raises Interrupted, end of input reads as ''."""
        if not self.tty:
            return (await _read_stdin(question)) or ""
        keys = KeyBindings()

        @keys.add("c-c")
        def _reject(event: KeyPressEvent) -> None:
            event.app.exit(exception=Interrupted())

        asker: PromptSession[str] = PromptSession(key_bindings=keys)
        try:
            return await asker.prompt_async(ANSI(question))
        except EOFError:
            return ""

    async def pick(self, question: str, choices: list[str]) -> str:
        """One of ``choices``, chosen by typing any part of it ('' when none)."""
        if not self.tty:
            return ""
        asker: PromptSession[str] = PromptSession(
            completer=FuzzyWordCompleter(choices), complete_while_typing=True
        )
        try:
            return await asker.prompt_async(
                ANSI(question), pre_run=asker.default_buffer.start_completion
            )
        except (EOFError, KeyboardInterrupt):
            return ""


def pick_number(typed: str, choices: list[str]) -> int | None:
    """The 1-based number of the choice ``typed`` names: a number, a choice, or part of one."""
    typed = typed.strip()
    if not typed:
        return None
    if typed.isdigit():
        return int(typed) if 0 < int(typed) <= len(choices) else None
    for number, choice in enumerate(choices, 1):
        if typed == choice or typed.lower() in choice.lower():
            return number
    return None


async def _read_stdin(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\n") if line else None
