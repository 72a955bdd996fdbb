"""Record a real chat in tmux against the fake API and save it as the README's SVG.

    .venv/bin/python -m tests.chat.capture_readme docs/chat.svg

The chat runs in a 100x42 tmux pane; the pane's cells (with their colours) become the SVG
through rich's Console(record=True).save_svg.
"""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from tests.e2e.harness import server_env
from tests.fakes.anthropic_server import FakeAnthropic

REPLY = """The failing test expects `parse_port` to reject ports above 65535.

## The fix

```python
def parse_port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return port
```

Run **`pytest -q`** again to check it.
"""

TURNS = [
    {
        "content": [
            {"type": "thinking", "thinking": "The test names parse_port; read config.py first."},
            {"type": "tool_use", "name": "read_file", "input": {"path": "config.py"}},
        ]
    },
    {
        "content": [
            {
                "type": "tool_use",
                "name": "edit_file",
                "input": {
                    "path": "config.py",
                    "old_string": "    return int(text)\n",
                    "new_string": "    port = int(text)\n    if not 0 < port < 65536:\n"
                    '        raise ValueError(f"port out of range: {port}")\n    return port\n',
                },
            }
        ]
    },
    {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": "pytest -q"}}]},
    {"content": [{"type": "text", "text": REPLY}], "delay_ms": 5},
]


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", "agent-ls-capture", *args], capture_output=True, text=True, check=True
    ).stdout


def wait_for(text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in tmux("capture-pane", "-p", "-t", "chat"):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{text!r} never showed:\n" + tmux("capture-pane", "-p", "-t", "chat")
            )
        time.sleep(0.1)


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic(TURNS) as api:
        workspace = Path(tmp) / "demo"
        workspace.mkdir()
        (workspace / "config.py").write_text(
            "def parse_port(text: str) -> int:\n    return int(text)\n"
        )
        (workspace / "test_config.py").write_text(
            "import pytest\nfrom config import parse_port\n\n\ndef test_range():\n"
            "    with pytest.raises(ValueError):\n        parse_port('70000')\n"
        )
        env = server_env(
            Path(tmp) / "home",
            {
                "ANTHROPIC_BASE_URL": api.base_url,
                "ANTHROPIC_API_KEY": "k",
                "TERM": "xterm-256color",
            },
        )
        command = " ".join(
            [
                *(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier()),
                shlex.quote(sys.executable),
                "-m",
                "agent_ls",
                "chat",
                "--new",
                "--workspace",
                shlex.quote(str(workspace)),
            ]
        )
        tmux("new-session", "-d", "-s", "chat", "-x", "100", "-y", "42", "env -i " + command)
        try:
            wait_for("Ctrl-D quits")
            tmux("send-keys", "-t", "chat", "-l", "test_config.py fails: fix parse_port")
            tmux("send-keys", "-t", "chat", "Enter")
            wait_for("no, because")
            tmux("send-keys", "-t", "chat", "-l", "yes")
            tmux("send-keys", "-t", "chat", "Enter")
            wait_for("context ")
            screen = tmux("capture-pane", "-p", "-e", "-t", "chat")
        finally:
            tmux("kill-server")
    console = Console(
        file=io.StringIO(), record=True, width=100, force_terminal=True, color_system="truecolor"
    )
    console.print(Text.from_ansi(screen.rstrip("\n")))
    svg = console.export_svg(title="make run")
    out.write_text(re.sub(r"@font-face \{.*?\}\s*", "", svg, flags=re.S))  # no web fonts


if __name__ == "__main__":
    main(Path(sys.argv[1]))
