"""The fake Anthropic API and the canned-turn format it shares with the scripted provider."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent_ls.agent.providers.turns import TurnFormatError, load_turns, sse_events

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.fakes, also when pytest runs without the repo on sys.path
from tests.fakes.anthropic_server import FakeAnthropic  # noqa: E402


def _post(url: str, payload: object) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-secret"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_turn_defaults_and_sse_order() -> None:
    [turn] = load_turns('[{"content": [{"type": "tool_use", "name": "grep", "input": {"q": 1}}]}]')
    assert turn.final_stop_reason == "tool_use"
    names = [name for name, _ in sse_events(turn, "m")]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    deltas = [d["delta"] for name, d in sse_events(turn, "m") if name == "content_block_delta"]
    assert json.loads("".join(d["partial_json"] for d in deltas)) == {"q": 1}


def test_cut_after_stops_the_stream_early() -> None:
    [turn] = load_turns([{"content": [{"type": "text", "text": "x" * 100}], "cut_after": 3}])
    names = [name for name, _ in sse_events(turn, "m")]
    assert names.count("content_block_delta") == 3
    assert "message_stop" not in names


@pytest.mark.parametrize(
    "bad",
    [
        [{"content": [{"type": "image"}]}],
        [{"content": [{"type": "tool_use", "input": {}}]}],
        [{"error": {"status": "429"}}],
        [{"content": "text"}],
        [{"content": [], "chunk_size": 0}],
    ],
)
def test_bad_turns_are_refused_with_a_reason(bad: list) -> None:
    with pytest.raises(TurnFormatError):
        load_turns(bad)


def test_load_turns_reads_json_lines_files(tmp_path: Path) -> None:
    script = tmp_path / "turns.jsonl"
    script.write_text(
        '{"content": [{"type": "text", "text": "a"}]}\n\n{"error": {"status": 529}}\n'
    )
    turns = load_turns(script)
    assert turns[1].error is not None and turns[1].error.type == "overloaded_error"


def test_http_control_endpoints_and_echo() -> None:
    with FakeAnthropic() as fake:
        status, _, _ = _post(
            f"{fake.base_url}/_script", [{"error": {"status": 429, "retry_after": 2}}]
        )
        assert status == 200
        status, body, headers = _post(f"{fake.base_url}/v1/messages", {"messages": []})
        assert status == 429 and headers["retry-after"] == "2"
        assert json.loads(body)["error"]["type"] == "rate_limit_error"
        status, body, _ = _post(
            f"{fake.base_url}/v1/messages",
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            },
        )
        assert json.loads(body)["content"] == [{"type": "text", "text": "Echo: hi"}]
        recorded = _get(f"{fake.base_url}/_requests")
        assert isinstance(recorded, list) and len(recorded) == 2
        assert "authorization" not in recorded[0]["headers"]
        _post(f"{fake.base_url}/_reset", {})
        assert fake.requests == []


def test_streaming_uses_event_lines() -> None:
    with FakeAnthropic([{"content": [{"type": "text", "text": "hello"}]}]) as fake:
        status, body, headers = _post(
            f"{fake.base_url}/v1/messages", {"stream": True, "messages": []}
        )
        assert status == 200 and headers["Content-Type"] == "text/event-stream"
        lines = body.decode().splitlines()
        assert lines[0] == "event: message_start"
        assert lines[1].startswith("data: ")
        # the handler records the outcome after the last byte is sent: give it a moment
        deadline = time.monotonic() + 5
        while fake.requests[0].get("outcome") != "completed" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.requests[0]["outcome"] == "completed"


def test_command_line_serves_a_script(tmp_path: Path) -> None:
    script = tmp_path / "turns.json"
    script.write_text(json.dumps([{"content": [{"type": "text", "text": "scripted"}]}]))
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests/fakes/anthropic_server.py"),
            "--script",
            str(script),
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        base_url = line.removeprefix("listening on ")
        assert base_url.endswith(":" + port_file.read_text())
        _, body, _ = _post(f"{base_url}/v1/messages", {"messages": []})
        assert json.loads(body)["content"][0]["text"] == "scripted"
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
