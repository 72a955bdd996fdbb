"""The chat in a real pseudo-terminal (pexpect), its server a child, the fake API behind it."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect

from tests.e2e.harness import server_env
from tests.fakes.anthropic_server import FakeAnthropic

PROMPT = "> "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]")


def screen_text(raw: str) -> str:
    """What the terminal showed, escape sequences left out."""
    return ANSI.sub("", raw).replace("\r", "")


def user_texts(api: FakeAnthropic) -> list[str]:
    """The last user message's text of each request the fake API got."""
    texts = []
    for request in api.requests:
        content = request["body"]["messages"][-1]["content"]
        blocks = [content] if isinstance(content, str) else content
        texts.append(
            "".join(b if isinstance(b, str) else b.get("text", "") for b in blocks).strip()
        )
    return texts


@contextlib.contextmanager
def terminal_chat(
    tmp_path: Path, *turns: dict[str, Any], args: tuple[str, ...] = ("--new",)
) -> Iterator[tuple[pexpect.spawn, FakeAnthropic]]:
    workspace = tmp_path / "project"
    workspace.mkdir(exist_ok=True)
    with FakeAnthropic(turns) as api:
        env = server_env(
            tmp_path / "home",
            {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k", "TERM": "xterm"},
        )
        child = pexpect.spawn(
            sys.executable,
            ["-m", "agent_ls", "chat", "--workspace", str(workspace), *args],
            env=env,
            encoding="utf-8",
            dimensions=(40, 120),
            timeout=30,
        )
        try:
            child.expect("Ctrl-D quits")
            child.expect_exact(PROMPT)
            yield child, api
        finally:
            child.close(force=True)
