"""Rewind, revert, retry, edit-and-resend and review in a real terminal (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.chat.terminal import PROMPT, terminal_chat, user_texts

DONE = {"content": [{"type": "text", "text": "done"}]}
CHOICE = "restore the others (o) / overwrite all (a) / cancel (c) >"


def write(*files: tuple[str, str]) -> dict[str, Any]:
    """A model turn that writes these files."""
    return {
        "content": [
            {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": text}}
            for path, text in files
        ]
    }


def shown(*parts: str) -> str:
    """Text as the terminal gets it: the parts in order, colours and white space between."""
    return r"(\s|\x1b\[[0-9;?]*[A-Za-z])*".join(re.escape(part) for part in parts)


def turn_ends(child: Any) -> None:
    child.expect("context")
    child.expect_exact(PROMPT)


def test_rewind_to_the_second_of_four_prompts_with_files_then_undo(tmp_path: Path) -> None:
    turns = [t for name in "abcd" for t in (write((f"{name}.txt", f"{name}\n")), DONE)]
    with terminal_chat(tmp_path, *turns) as (child, api):
        project = tmp_path / "project"
        for name in "abcd":
            child.send(f"write {name}\r")
            turn_ends(child)
        assert sorted(p.name for p in project.iterdir()) == ["a.txt", "b.txt", "c.txt", "d.txt"]
        child.send("/rewind\r")
        child.expect("4. write d")
        child.expect_exact("rewind to just before which prompt")
        child.send("2\r")
        child.expect_exact("the files only (f) >")
        child.send("b\r")
        child.expect("Rewound to just before prompt 2")
        child.expect_exact("write b")  # its text is back in the input, to edit
        assert sorted(p.name for p in project.iterdir()) == ["a.txt"]
        child.send("\x15new direction\r")  # Ctrl-U, then another prompt in its place
        turn_ends(child)
        # the conversation went on from the first turn: its 4 messages, then the new prompt
        assert len(api.requests[-1]["body"]["messages"]) == 5
        assert user_texts(api)[-1] == "new direction"
        child.send("/undo\r")
        child.expect("Undone")
        child.expect_exact(PROMPT)
        assert sorted(p.name for p in project.iterdir()) == ["a.txt", "b.txt", "c.txt", "d.txt"]


def test_a_conflicting_revert_applies_nothing_until_the_user_picks(tmp_path: Path) -> None:
    turns = [write(("a.txt", "agent a\n"), ("b.txt", "agent b\n")), DONE]
    with terminal_chat(tmp_path, *turns) as (child, _api):
        project = tmp_path / "project"
        child.send("write two files\r")
        turn_ends(child)
        (project / "b.txt").write_text("my own b\n")  # the user's edit, on the agent's line
        child.send("/revert\r")
        child.expect("Nothing was changed")
        child.expect(shown("conflict", "b.txt"))
        child.expect_exact(CHOICE)
        assert (project / "a.txt").exists()  # all or nothing: nothing yet
        child.send("c\r")
        child.expect("Cancelled: nothing was changed.")
        child.expect_exact(PROMPT)
        assert (project / "a.txt").exists()
        child.send("/revert\r")
        child.expect_exact(CHOICE)
        child.send("o\r")  # restore the others
        child.expect(shown("skipped", "b.txt"))
        child.expect("Reverted")
        child.expect_exact(PROMPT)
        assert not (project / "a.txt").exists()
        assert (project / "b.txt").read_text() == "my own b\n"
        child.send("/undo\r")
        child.expect("Undone")
        child.expect_exact(PROMPT)
        assert (project / "a.txt").read_text() == "agent a\n"
        child.send("/revert\r")
        child.expect_exact(CHOICE)
        child.send("a\r")  # overwrite all
        child.expect("Reverted")
        child.expect_exact(PROMPT)
        assert not (project / "a.txt").exists() and not (project / "b.txt").exists()
        child.send("/undo\r")  # one undo puts back both, the overwritten one too
        child.expect("Undone")
        child.expect_exact(PROMPT)
        assert (project / "b.txt").read_text() == "my own b\n"
        assert (project / "a.txt").read_text() == "agent a\n"


def test_a_revert_merges_around_the_users_later_edit(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    lines = [f"line {n}\n" for n in range(1, 11)]
    (project / "notes.txt").write_text("".join(lines))
    edit = {
        "content": [
            {
                "type": "tool_use",
                "name": "edit_file",
                "input": {"path": "notes.txt", "old_string": "line 1\n", "new_string": "agent 1\n"},
            }
        ]
    }
    with terminal_chat(tmp_path, edit, DONE) as (child, _api):
        child.send("change line one\r")
        turn_ends(child)
        assert (project / "notes.txt").read_text().startswith("agent 1\n")
        mine = (project / "notes.txt").read_text().replace("line 10\n", "mine 10\n")
        (project / "notes.txt").write_text(mine)
        child.send("/revert\r")
        child.expect(shown("merged", "notes.txt"))
        child.expect("Reverted")
        child.expect_exact(PROMPT)
    assert (project / "notes.txt").read_text() == "".join(lines[:9]) + "mine 10\n"


def test_retry_after_an_overload_resends_the_prompt_once(tmp_path: Path) -> None:
    overloaded = {"error": {"status": 529, "retry_after": 0}}
    ok = {"content": [{"type": "text", "text": "recovered"}]}
    with terminal_chat(tmp_path, overloaded, overloaded, overloaded, ok) as (child, api):
        child.send("hello\r")
        child.expect(r"✗ .*\(/retry sends it again\)")
        child.expect_exact(PROMPT)
        child.send("/rename flaky\r")
        child.expect_exact("flaky> ")
        child.send("/resume flaky\r")  # reloaded, the failed turn keeps its marker
        child.expect("── flaky ──")
        child.expect(shown("you>", "hello", "✗ The API is overloaded"))
        child.expect_exact("flaky> ")
        child.send("/retry\r")
        child.expect("recovered")
        turn_ends(child)
        # the prompt once, not twice: the failed turn is a branch, not merged into the retry
        assert len(api.requests[-1]["body"]["messages"]) == 1
        assert user_texts(api)[-1] == "hello"


def test_esc_esc_edits_the_last_prompt_and_sends_it_in_its_place(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, api):
        child.send("first question\r")
        turn_ends(child)
        child.send("second qusetion\r")
        turn_ends(child)
        child.send("\x1b\x1b")
        child.expect("editing your last prompt")
        child.expect_exact("second qusetion")
        child.send("\x15second question\r")
        turn_ends(child)
        # first question, its answer, the edited prompt: the misspelt turn is a branch now
        assert len(api.requests[-1]["body"]["messages"]) == 3
        assert user_texts(api)[-1] == "second question"


def test_review_shows_the_diff_and_writes_only_after_yes(tmp_path: Path) -> None:
    turns = [write(("ok.txt", "accepted\n")), DONE, write(("no.txt", "rejected\n")), DONE]
    with terminal_chat(tmp_path, *turns, args=("--new", "--review")) as (child, api):
        project = tmp_path / "project"
        child.send("write ok\r")
        child.expect("nothing written yet")
        child.expect(r"\+accepted")
        child.expect("no, because")
        assert not (project / "ok.txt").exists()
        child.send("y\r")
        turn_ends(child)
        assert (project / "ok.txt").read_text() == "accepted\n"
        child.send("write no\r")
        child.expect(r"\+rejected")
        child.expect("no, because")
        child.send("n\r")
        turn_ends(child)
        assert not (project / "no.txt").exists()
        results = api.requests[-1]["body"]["messages"][-1]["content"]
        assert any("rejected this edit" in str(block) for block in results)


def test_command_output_shows_under_the_tool_line_live_and_reloaded(tmp_path: Path) -> None:
    command = "printf 'first out\\nlast out\\n'; exit 3"
    run = {"content": [{"type": "tool_use", "name": "run_command", "input": {"command": command}}]}
    with terminal_chat(tmp_path, run, DONE) as (child, _api):
        child.send("run it\r")
        child.expect("no, because")
        child.send("y\r")
        child.expect("[✓✗] ")
        child.expect(shown("first out", "last out", "Exit code 3"))
        turn_ends(child)
        child.send("/rename ran\r")
        child.expect_exact("ran> ")
        child.send("/resume ran\r")
        child.expect("── ran ──")
        child.expect("[✓✗] ")
        child.expect(shown("first out", "last out", "Exit code 3"))
        child.expect_exact("ran> ")


def test_a_conflicting_rewind_shows_the_plan_then_restores_the_others(tmp_path: Path) -> None:
    turns = [write(("a.txt", "agent a\n")), DONE, write(("b.txt", "agent b\n")), DONE]
    with terminal_chat(tmp_path, *turns) as (child, _api):
        project = tmp_path / "project"
        for name in "ab":
            child.send(f"write {name}\r")
            turn_ends(child)
        (project / "b.txt").write_text("my own b\n")
        child.send("/rewind 1 both\r")
        child.expect("Nothing was changed")
        child.expect(shown("conflict", "b.txt"))
        child.expect_exact(CHOICE)
        assert (project / "a.txt").exists()  # nothing yet, not even the conversation
        child.send("others\r")
        child.expect(shown("skipped", "b.txt"))
        child.expect("Rewound to just before prompt 1")
        child.expect_exact("write a")  # back in the input
    assert not (project / "a.txt").exists()
    assert (project / "b.txt").read_text() == "my own b\n"
