"""Prompt `context` attachments are capped: a 192 MB file is neither stored nor sent whole, the
model and the user see what was cut, a selection of a big file sends only its lines, and a FIFO
attached does not block the server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_ls.core.attachments import MAX_ATTACHMENT_BYTES
from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.stall import stall_probe
from tests.reliability.support import FAKE_KEY, record, session_files

pytestmark = pytest.mark.reliability

BIG = 192 * 1024 * 1024


@pytest.mark.timeout(120)
async def test_big_attachments_are_capped(tmp_path: Path) -> None:
    workspace, home = tmp_path / "project", tmp_path / "home"
    workspace.mkdir()
    big = workspace / "big.log"
    with big.open("wb") as handle:
        handle.write(b"first line\nsecond line\nthird line\n")
        handle.truncate(BIG)  # the rest reads as NUL bytes, without taking the disk
    fifo = workspace / "pipe"
    os.mkfifo(fifo)
    context = [
        {"uri": big.as_uri()},
        {
            "uri": big.as_uri(),
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 5}},
        },
        {"uri": fifo.as_uri()},
    ]
    with FakeAnthropic() as api:
        api.enqueue({"content": [{"type": "text", "text": "seen"}]})
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([workspace], home, env=env) as agent:
            async with stall_probe(agent) as stall:
                result = await agent.request(
                    "agent/session/prompt", {"prompt": "look", "context": context}, 60
                )
            assert result["stopReason"] == "end_turn"
            [shown] = [u["update"] for u in agent.updates if u["update"]["kind"] == "user_message"]
        [request] = api.requests
    sent = request["body"]["messages"][-1]["content"]
    whole, selection, pipe = (block["text"] for block in sent[1:4])
    assert len(whole.encode()) < MAX_ATTACHMENT_BYTES + 1000
    assert "first line" in whole
    assert f"[Attachment cut: the file is {BIG:,} bytes" in whole and "read_file" in whole
    assert "second line\nthird line" in selection and "first line" not in selection
    assert "Attachment cut" not in selection
    assert f"{fifo}: unreadable (not a regular file)" in pipe
    assert "[Attachment cut" in json.dumps(shown["content"])  # the user sees the note too
    stored = sum(path.stat().st_size for path in session_files(home))
    assert stored < 7 * MAX_ATTACHMENT_BYTES  # NUL bytes are stored as 6-byte escapes
    record("stall: 192 MB file and a FIFO attached as context (ms)", round(stall.longest_ms))
