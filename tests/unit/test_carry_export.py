"""Exports: Markdown and HTML transcripts (tool calls, outputs, checkpoint diffs, times; HTML
self-contained and escaped), the raw JSONL, and the `sessions export` command."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from agent_ls.carry.errors import CarryError
from agent_ls.carry.export import export_file, export_text
from agent_ls.checkpoints import BlobStore, TurnRecorder, checkpoint_entry
from agent_ls.cli import sessions as cli_sessions
from agent_ls.sessions import SessionStore

HOSTILE = '<script>alert("x")</script> & <img src="http://example.invalid/x.png">'


@pytest.fixture
def session(store: SessionStore) -> tuple[SessionStore, BlobStore, str]:
    """A session with a prompt, a tool call and its output, a checkpoint, and a branch."""
    root = store.workspace
    (root / "app.py").write_text("print('hi')\n")
    blobs = BlobStore(store.dir / "blobs")
    sid = store.create(name="Greeting <b>bold</b>").session_id
    with store.writer(sid) as w:
        first = w.append({"type": "message", "role": "user", "content": "say hello " + HOSTILE})
        w.append({"type": "message", "role": "assistant", "content": "an abandoned answer"})
        w.set_leaf(first["id"])
        w.append(
            {
                "type": "message",
                "role": "assistant",
                "model": "claude-test",
                "content": [
                    {"type": "thinking", "thinking": "edit app.py", "signature": "s"},
                    {"type": "text", "text": "Editing ```now```"},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "run_command",
                        "input": {"command": "ls </dev/null"},
                    },
                ],
            }
        )
        w.append(
            {
                "type": "message",
                "role": "tool_result",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": "app.py\n```\n<out>",
                        "is_error": True,
                    }
                ],
            }
        )
        recorder = TurnRecorder(blobs, [root])
        recorder.before_change(root / "app.py")
        (root / "app.py").write_text("print('hello')\n")
        w.append(checkpoint_entry("turn-1", recorder.finish()))
    return store, blobs, sid


def test_markdown_shows_calls_outputs_diffs_and_times(session):
    store, blobs, sid = session
    text = export_text(store, blobs, sid, "markdown")
    assert text.startswith("# Greeting <b>bold</b>\n")
    assert "## User · 20" in text and "## Assistant (claude-test) · 20" in text
    assert "**Tool call `run_command`**" in text and '"command": "ls </dev/null"' in text
    assert "Error:\n\n````\napp.py\n```\n<out>\n````" in text  # a longer fence than the output's
    assert "-print('hi')\n+print('hello')" in text and "### Checkpoint · 20" in text
    assert f"- modified `{store.workspace}/app.py`" in text
    assert "> *Thinking*" in text and "an abandoned answer" not in text  # the active path only


def test_html_is_self_contained_and_escapes_everything(session):
    store, blobs, sid = session
    page = export_text(store, blobs, sid, "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert not re.search(r"<[^>]*\s(src|href)\s*=", page)  # no tag loads anything
    assert "default-src 'none'" in page
    assert '<span class="del">-print(&#x27;hi&#x27;)</span>' in page
    assert '<span class="add">+print(&#x27;hello&#x27;)</span>' in page
    assert "run_command" in page and "app.py\n```\n&lt;out&gt;" in page
    assert re.search(r'<time datetime="20\d\d-', page)


def test_jsonl_is_the_file_or_its_active_path(session):
    store, blobs, sid = session
    whole = export_text(store, blobs, sid, "jsonl")
    assert whole.encode() == store.info(sid).path.read_bytes()
    active = [
        json.loads(line) for line in export_text(store, blobs, sid, "jsonl", True).splitlines()
    ]
    assert active[0]["type"] == "session" and active[0]["id"] == sid
    assert [e["id"] for e in active[1:]] == [e["id"] for e in store.load(sid).path()]
    assert "an abandoned answer" in whole and "an abandoned answer" not in json.dumps(active)


def test_files_are_written_whole_and_private(session, tmp_path):
    store, blobs, sid = session
    out = tmp_path / "t.html"
    size = export_file(store, blobs, sid, "html", out)
    assert size == out.stat().st_size and out.stat().st_mode & 0o777 == 0o600
    with pytest.raises(CarryError, match="binary"):
        export_text(store, blobs, sid, "bundle")
    with pytest.raises(CarryError, match="not a folder"):
        export_file(store, blobs, sid, "markdown", tmp_path / "missing" / "t.md")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_sessions.add_commands(parser.add_subparsers())
    return cli_sessions.run(parser.parse_args(list(argv)))


def test_cli_export_to_stdout_and_to_a_file(session, tmp_path, capsys):
    store, _, sid = session
    ws = str(store.workspace)
    assert run("export", sid[:8], "--workspace", ws) == 0
    assert capsys.readouterr().out.startswith("# Greeting")
    out = tmp_path / "s.tar"
    assert (
        run("export", sid, "--format", "bundle", "-o", str(out), "--workspace", ws, "--json") == 0
    )
    assert json.loads(capsys.readouterr().out) == {"path": str(out), "bytes": out.stat().st_size}
    assert run("export", sid, "--format", "bundle", "--workspace", ws) == 1
    assert "give a file" in capsys.readouterr().err


def test_a_missing_snapshot_is_said_in_place_of_the_diff(session):
    store, blobs, sid = session
    for sha in list(blobs):
        blobs.delete(sha)
    text = export_text(store, blobs, sid, "markdown")
    assert "is missing" in text
