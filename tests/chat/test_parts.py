"""The chat's parts on their own: answers, markdown blocks, @path files and completion."""

from __future__ import annotations

import subprocess
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from agent_ls.cli.chat.app import COMMANDS, parse_answer, pick_number
from agent_ls.cli.chat.files import mentioned, workspace_files
from agent_ls.cli.chat.finding import export_target, highlighted, python_offset, tag_change
from agent_ls.cli.chat.keyboard import ChatCompleter, history_file
from agent_ls.cli.chat.prices import dollars, price_of, request_cost
from agent_ls.cli.chat.render import collapsed, complete_blocks, turn_end_marker, usage_line
from agent_ls.cli.chat.restoring import parse_choice, parse_scope


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

    assert complete("/re") == ["/rename", "/resume", "/retry", "/revert", "/review", "/rewind"]
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


def test_prices_know_current_models_by_any_of_their_ids_and_nothing_else() -> None:
    assert price_of("claude-sonnet-4-6") == price_of("claude-sonnet-4-6-20260217")
    assert price_of("claude-sonnet-4-5-20250929") == price_of("claude-sonnet-4-5@20250929")
    assert price_of("us.anthropic.claude-haiku-4-5-20251001-v1:0") == price_of("claude-haiku-4-5")
    assert price_of("claude-opus-4-0") == price_of("claude-opus-4-20250514")
    assert price_of("claude-3-5-haiku-latest") is not None
    for unknown in ("qwen3-coder", "claude-sonnet-4-9", "claude-opus-4-8[1m]", "", "fake-model"):
        assert price_of(unknown) is None, unknown


def test_a_request_costs_input_cache_and_output_at_their_own_rates() -> None:
    usage = {
        "inputTokens": 1_000_000,
        "cacheCreationInputTokens": 1_000_000,
        "cacheReadInputTokens": 1_000_000,
        "outputTokens": 1_000_000,
    }
    assert request_cost(usage, "claude-sonnet-4-6") == 3 + 3.75 + 0.30 + 15
    assert request_cost(usage, "claude-opus-4-5") == 5 + 6.25 + 0.50 + 25
    assert request_cost(usage, "claude-opus-4-1") == 15 + 18.75 + 1.50 + 75
    assert request_cost({"outputTokens": 1000}, "claude-haiku-4-5") == 0.005
    assert request_cost(usage, "my-local-model") is None
    # past 200K of prompt Sonnet 4.5 is dearer: no cost rather than a wrong one
    assert (
        request_cost({"inputTokens": 150_000, "cacheReadInputTokens": 60_000}, "claude-sonnet-4-5")
        is None
    )
    assert request_cost({"inputTokens": 150_000}, "claude-sonnet-4-5") == 0.45
    assert [dollars(c) for c in (12.345, 0.1011, 0.00042)] == ["$12.35", "$0.101", "$0.0004"]


def test_usage_line_shows_the_cost_only_when_known() -> None:
    usage = {"inputTokens": 1200, "outputTokens": 40}
    with_cost = usage_line(usage, 1200, 200_000, "claude-sonnet-4-6", 0.0042).plain
    assert (
        with_cost
        == "[1,200 in · 40 out · $0.0042 · context 1,200/200,000 (1%) · claude-sonnet-4-6]"
    )
    assert "$" not in usage_line(usage, 1200, 200_000, "local", None).plain


def test_thinking_folds_to_one_line() -> None:
    assert collapsed("Read config.py first.") == (
        "▸ thinking: Read config.py first. (/thinking shows it all)"
    )
    folded = collapsed("x" * 100 + "\nsecond\nthird")
    assert folded.startswith("▸ thinking: " + "x" * 79 + "…") and "3 lines" in folded


def test_highlights_count_utf16_units_as_the_wire_does() -> None:
    snippet = "😀 meson build"  # the emoji is two UTF-16 units
    assert python_offset(snippet, 3) == 2
    shown = highlighted(snippet, [[3, 8]])
    assert [snippet[s.start : s.end] for s in shown.spans if s.style == "bold yellow"] == ["meson"]


def test_export_targets_take_a_format_a_path_or_both(tmp_path: Path) -> None:
    session = {"sessionId": "01ABC", "name": "login bug: part 2"}
    assert export_target("", tmp_path, session) == ("markdown", tmp_path / "login-bug-part-2.md")
    assert export_target("bundle", tmp_path, {"sessionId": "01ABC"}) == (
        "bundle",
        tmp_path / "01ABC.tar",
    )
    assert export_target("out/s.html", tmp_path, session) == ("html", tmp_path / "out/s.html")
    assert export_target("jsonl /x/y.txt", tmp_path, session) == ("jsonl", Path("/x/y.txt"))


def test_tags_are_added_and_removed_in_order() -> None:
    assert tag_change([], ["bug", "#urgent", "bug"]) == ["bug", "urgent"]
    assert tag_change(["bug", "urgent"], ["-bug", "later"]) == ["urgent", "later"]
    assert tag_change(["bug"], ["-nothing"]) == ["bug"]


def test_restore_choices_and_rewind_scopes_are_words_or_letters() -> None:
    assert [parse_choice(a) for a in ("o", "Others", "a", "overwrite all", "c", "", "maybe")] == [
        "partial",
        "partial",
        "force",
        "force",
        "",
        "",
        None,
    ]
    assert [parse_scope(a) for a in ("b", "conversation", "F", "x", "")] == [
        "both",
        "conversation",
        "files",
        None,
        None,
    ]


def test_turn_end_markers_say_how_the_turn_ended() -> None:
    assert turn_end_marker("cancelled", None).plain == "(cancelled)"
    failed = turn_end_marker("error", "The API is overloaded.")
    assert failed.plain == "✗ The API is overloaded. (/retry sends it again)"
    limit = turn_end_marker("max_turn_requests", 'Send "continue" to let it go on.')
    assert limit.plain == '(stopped: Send "continue" to let it go on.)'
