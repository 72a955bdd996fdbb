"""The chat in a real pseudo-terminal: keys, paste, history, cancel, permission, markdown."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pexpect

from tests.chat.terminal import PROMPT, screen_text, terminal_chat, user_texts

MARKDOWN = "## Plan\n\n**bold** and `code`\n\n```python\nprint('hi')\n```\n"
SLOW = {"content": [{"type": "text", "text": "partial answer " * 200}], "delay_ms": 20}
RUN = {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": "echo hi"}}]}


def test_a_paste_of_three_lines_is_one_prompt_and_up_recalls_it(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, api):
        child.send("\x1b[200~def f():\n    return 1\nprint(f())\x1b[201~")
        child.send("\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("\x1b[A")  # Up: the last prompt, all three lines
        child.send("\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("first\x1b\rsecond\r")  # Esc-Enter (what Alt-Enter sends) adds a line
        child.expect("context")
        child.expect_exact(PROMPT)
        assert user_texts(api) == ["def f():\n    return 1\nprint(f())"] * 2 + ["first\nsecond"]
        history = next((tmp_path / "home").rglob("chat-history"))
        assert history.stat().st_mode & 0o777 == 0o600


def test_ctrl_c_mid_stream_keeps_the_partial_and_the_prompt_works_at_once(
    tmp_path: Path,
) -> None:
    with terminal_chat(tmp_path, SLOW) as (child, _api):
        child.send("tell me\r")
        child.expect("partial answer partial answer")
        child.sendintr()
        child.expect_exact("(cancelled)")
        child.expect_exact(PROMPT)
        child.send("/help\r")
        child.expect("/resume N")
        child.expect_exact(PROMPT)
        child.send("/copy print\r")  # what streamed before the cancel was kept
        child.expect("partial answer partial answer")


def test_ctrl_c_at_the_permission_prompt_rejects_then_quit_exits_0(tmp_path: Path) -> None:
    with terminal_chat(tmp_path, RUN, {"content": [{"type": "text", "text": "ok"}]}) as (
        child,
        _api,
    ):
        child.send("run it\r")
        child.expect("no, because")
        child.sendintr()
        child.expect("Rejected")
        child.expect_exact(PROMPT)
        child.send("/quit\r")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_an_unknown_answer_asks_again_and_a_reason_reaches_the_model(tmp_path: Path) -> None:
    done = {"content": [{"type": "text", "text": "understood"}]}
    with terminal_chat(tmp_path, RUN, done, done) as (child, api):
        child.send("run it\r")
        child.expect("no, because")
        child.send("maybe\r")
        child.expect("Answer yes, no, always")
        child.send("no, because it is slow\r")
        child.expect("context")  # the turn ended; the reason follows as a prompt
        child.expect("context")
        child.expect_exact(PROMPT)
    assert user_texts(api)[-1] == "I said no to that tool call because: it is slow"


def test_markdown_renders_and_ctrl_c_twice_on_an_empty_line_quits(tmp_path: Path) -> None:
    shown = io.StringIO()
    with terminal_chat(tmp_path, {"content": [{"type": "text", "text": MARKDOWN}]}) as (
        child,
        _api,
    ):
        child.logfile_read = shown
        child.send("plan\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("half a line")
        child.sendintr()  # clears the line
        child.sendintr()  # arms
        child.expect("Ctrl-C again")
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    text = screen_text(shown.getvalue())
    assert "Plan" in text and "## Plan" not in text
    assert "bold and code" in text and "**bold**" not in text
    assert "print('hi')" in text and "```" not in text
    assert "\x1b[" in shown.getvalue()  # styled: colours and bold reach the terminal


def test_the_session_picker_searches_and_resumes(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, _api):
        child.send("/rename older work\r")
        child.expect("Renamed to older work")
        child.expect_exact(PROMPT)
        child.send("/new\r")
        child.expect("New session")
        child.expect_exact(PROMPT)
        child.send("/sessions\r")
        child.expect("type to search")
        child.send("older")
        child.expect("older work")  # the completion menu shows the match
        child.send("\r")
        child.expect("── older work ──")
        child.expect_exact("older work> ")


def test_tab_completes_an_at_path_and_the_file_goes_as_context(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "notes.md").write_text("the secret word is pineapple\n")
    with terminal_chat(tmp_path) as (child, api):
        child.send("/he")
        child.expect_exact("/help")  # the menu, as you type
        child.send("\x15")  # Ctrl-U: clear the line
        child.send("explain @not")
        child.expect_exact("@notes.md")
        child.send("\t please\r")  # Tab takes the completion
        child.expect("attached: notes.md")
        child.expect("context")
        child.expect_exact(PROMPT)
    sent = user_texts(api)[0]
    assert "explain @notes.md please" in sent and "pineapple" in sent


def test_the_spinner_counts_seconds_and_tokens_copy_reaches_the_clipboard_ctrl_d_quits(
    tmp_path: Path,
) -> None:
    slow = {"content": [{"type": "text", "text": "word " * 400}], "delay_ms": 20}
    with terminal_chat(tmp_path, slow) as (child, _api):
        child.send("go\r")
        child.expect(r"(thinking|writing) · \d+s · ↓ ~?\d+ tokens · Ctrl-C cancels")
        child.expect(r"writing · \d+s · ↓ ~[1-9]\d{2,} tokens")  # the count grows as it streams
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("/copy\r")
        encoded = base64.b64encode(("word " * 400).encode()).decode()
        child.expect_exact(f"\x1b]52;c;{encoded}\x07")  # OSC 52: the raw text to the clipboard
        child.expect("Copied 2000 characters")
        child.expect_exact(PROMPT)
        child.sendeof()  # Ctrl-D quits
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
