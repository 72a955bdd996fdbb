"""Search, tags, export and /clear in a real terminal (issue 18)."""

from __future__ import annotations

import tarfile
from pathlib import Path

from tests.chat.terminal import PROMPT, terminal_chat, user_texts


def test_search_finds_another_sessions_message_and_opens_it_at_the_hit(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, _api):
        child.send("we chose meson over cmake for the build\r")
        child.expect("context")
        child.send("/rename build notes\r")
        child.expect_exact("build notes> ")
        child.send("/new\r")
        child.expect("New session")
        child.expect_exact(PROMPT)
        child.send("something else entirely\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("/search meson\r")
        child.expect("1. build notes · (user|assistant)")
        child.expect("meson")  # the snippet
        child.expect_exact("go to (type to search")
        child.send("1\r")
        child.expect("── build notes ──")
        child.expect("▶ the search hit:")
        child.expect_exact("build notes> ")  # the chat goes on in that session
        child.send("/search nothing-like-this\r")
        child.expect("Nothing matches nothing-like-this.")


def test_tags_are_added_removed_and_filter_the_session_list(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, _api):
        child.send("a tagged question\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("/tag\r")
        child.expect("tags: none")
        child.send("/tag bug urgent\r")
        child.expect("tags: #bug #urgent")
        child.send("/tag -urgent\r")
        child.expect(r"tags: #bug \(")
        child.send("/sessions #bug\r")
        child.expect(r"a tagged question\s+.*#bug")
        child.expect_exact("resume (type to search")
        child.send("\r")
        child.expect_exact(PROMPT)
        child.send("/sessions #urgent\r")
        child.expect("no sessions match")


def test_export_writes_markdown_html_and_a_bundle(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, _api):
        project = tmp_path / "project"
        child.send("please export me\r")
        child.expect("context")
        child.expect_exact(PROMPT)
        child.send("/rename my notes\r")
        child.expect_exact("my notes> ")
        child.send("/export\r")
        child.expect(r"Wrote .*my-notes\.md \(markdown, [\d,]+ bytes\)")
        child.send(f"/export html {tmp_path / 'page.html'}\r")
        child.expect(r"\(html, [\d,]+ bytes\)")
        child.send("/export carry.tar\r")  # the format from the name
        child.expect(r"carry\.tar \(bundle, [\d,]+ bytes\)")
        child.expect_exact("my notes> ")
    assert "please export me" in (project / "my-notes.md").read_text()
    assert "please export me" in (tmp_path / "page.html").read_text()
    assert tarfile.is_tarfile(project / "carry.tar")


def test_clear_starts_a_new_branch_of_the_same_session(tmp_path: Path) -> None:
    with terminal_chat(tmp_path) as (child, api):
        child.send("the first conversation\r")
        child.expect("context")
        child.send("/rename kept\r")
        child.expect_exact("kept> ")
        child.send("/clear\r")
        child.expect("The old conversation is kept as a branch")
        child.expect_exact("kept> ")  # the same session
        child.send("a fresh start\r")
        child.expect("context")
        child.expect_exact("kept> ")
        assert len(api.requests[-1]["body"]["messages"]) == 1  # nothing of the old branch
        assert user_texts(api)[-1] == "a fresh start"
        child.send("/search first conversation\r")  # the old branch is still there
        child.expect("1. kept · ")
