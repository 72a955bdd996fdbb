"""The chat's parts on their own: answers, markdown blocks, @path files and completion."""

from __future__ import annotations

import subprocess
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from agent_ls.cli.chat.app import COMMANDS, parse_answer, pick_number
from agent_ls.cli.chat.files import mentioned, workspace_files
from agent_ls.cli.chat.keyboard import ChatCompleter, history_file
from agent_ls.cli.chat.render import complete_blocks


def test_permission_answers_are_words_or_letters_and_a_no_may_carry_a_reason() -> None:
    assert parse_answer("y") == ("allow_once", "")
    assert parse_answer(" Yes ") == ("allow_once", "")
    assert parse_answer("always") == ("allow_always", "")
    assert parse_answer("a") == ("allow_always", "")
    assert parse_answer("n") == ("reject_once", "")
    assert parse_answer("No") == ("reject_once", "")
    assert parse_answer("no, because it deletes my data") == ("reject_once", "it deletes my data")
    assert parse_answer("n: use ripgrep instead") == ("reject_once", "use ripgrep instead")
    assert parse_answer("yes because") == (None, "")  # only a no has a reason
    assert parse_answer("sure") == (None, "")
    assert parse_answer("") == (None, "")


def test_markdown_blocks_end_at_blank_lines_outside_fences() -> None:
    assert complete_blocks("# Title\n\nstill typing") == len("# Title\n\n")
    fenced = "```py\nx = 1\n\ny = 2\n"
    assert complete_blocks(fenced) == 0  # a blank line inside a fence ends nothing
    assert complete_blocks(fenced + "```\n\nnext") == len(fenced + "```\n\n")
    assert complete_blocks("no newline yet") == 0


def test_workspace_files_respect_gitignore_with_and_without_git(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.o").write_text("")
    (tmp_path / "secret.log").write_text("")
    (tmp_path / ".gitignore").write_text("build/\n*.log\n")
    assert workspace_files(tmp_path) == [".gitignore", "src/main.py"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert workspace_files(tmp_path) == [".gitignore", "src/main.py"]


def test_at_paths_attach_only_existing_files_inside_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("")
    found = mentioned(tmp_path, "look at @a.py, not @missing.py or @../outside.txt or a@b")
    assert found == [tmp_path / "a.py"]


def test_completion_of_commands_and_paths() -> None:
    completer = ChatCompleter(COMMANDS, lambda: ["src/main.py", "README.md"])

    def complete(text: str) -> list[str]:
        document = Document(text, len(text))
        return [c.text for c in completer.get_completions(document, CompleteEvent())]

    assert complete("/re") == ["/rename", "/resume", "/revert"]
    assert complete("explain @mai") == ["@src/main.py"]
    assert complete("explain") == []
    assert complete("/resume x") == []


def test_history_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "chat-history"
    path.write_text("")
    path.chmod(0o644)
    assert history_file(tmp_path).stat().st_mode & 0o777 == 0o600


def test_the_picker_takes_a_number_a_choice_or_part_of_one() -> None:
    choices = ["1. fix the login bug", "2. Older work"]
    assert pick_number("2", choices) == 2
    assert pick_number("older", choices) == 2
    assert pick_number("1. fix the login bug", choices) == 1
    assert pick_number("3", choices) is None
    assert pick_number("", choices) is None
    assert pick_number("nothing like it", choices) is None
