"""Disk trouble during a turn: the turn ends with a clear error and no earlier entry is lost.

The tests run as root, for whom chmod does not make anything read-only, and mounting a small
filesystem is not allowed here. What works as root:

- a full disk, for real, on the running server: `RLIMIT_FSIZE` set on its pid (`prlimit`) makes
  every write past the limit fail (EFBIG, the same path as ENOSPC: a short write, then an error);
- a store that cannot be created: `sessionDir` below a regular file (ENOTDIR);
- a read-only store mid-turn (EROFS) cannot be made as root without a mount, so it is injected
  in the domain: the service runs a turn whose session writes fail with EROFS.
"""

from __future__ import annotations

import asyncio
import errno
import os
import resource
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import connect
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability import crash_child
from tests.reliability.support import (
    FAKE_KEY,
    check_file,
    read_lines,
    record,
    server_pid,
    session_files,
)

pytestmark = pytest.mark.reliability


def outcome_text(outcome: Any) -> str:
    return outcome["error"] if isinstance(outcome, dict) else str(outcome)


async def test_full_disk_mid_turn(tmp_path: Path) -> None:
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    long_reply = "a reply too long for the space left on the disk " * 400
    with FakeAnthropic() as api:
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([workspace], home, env=env) as agent:
            first = await agent.request("agent/session/prompt", {"prompt": "fits"}, 60)
            assert first["stopReason"] == "end_turn"
            sid = first["sessionId"]
            [path] = session_files(home)
            kept, _ = read_lines(path)
            limit = path.stat().st_size + 600  # room for the user message, not the reply
            pid = server_pid(agent)
            hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))
            api.enqueue({"content": [{"type": "text", "text": long_reply}], "chunk_size": 64})
            try:
                outcome: Any = await agent.request(
                    "agent/session/prompt", {"sessionId": sid, "prompt": "too long"}, 60
                )
                assert outcome["stopReason"] == "error", outcome
            except AssertionError:
                raise
            except Exception as exc:  # a JSON-RPC error is a clear ending too
                outcome = exc
            message = outcome_text(outcome)
            assert any(w in message.lower() for w in ("file", "disk", "space", "write")), message
            now, tail = read_lines(path)
            assert now[: len(kept)] == kept and tail == b""
            check_file(path)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
            again = await agent.request(
                "agent/session/prompt", {"sessionId": sid, "prompt": "room again"}, 60
            )
            assert again["stopReason"] == "end_turn"
            page = await agent.request("agent/session/switch", {"sessionId": sid})
            assert page["items"][0]["content"][0]["text"] == "fits"
    check_file(path)
    record("disk.full_disk_message", message[:160])


async def test_store_that_cannot_exist(tmp_path: Path) -> None:
    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    (tmp_path / "a-file").write_text("not a directory")
    options = {"sessionDir": str(tmp_path / "a-file" / "store")}
    async with connect(
        [workspace], home, env={"AGENT_LS_PROVIDER": "scripted"}, options=options
    ) as agent:
        for method, params in [
            ("agent/session/new", {}),
            ("agent/session/prompt", {"prompt": "hi"}),
        ]:
            error = await agent.error(method, params)
            assert str(error).startswith(("file system:", "session store:")), error
            assert "a-file" in str(error), error
        try:
            listed = await agent.request("agent/session/list", {})
            assert listed["sessions"] == []
        except Exception as exc:  # or a clear error naming the problem
            assert str(exc).startswith(("file system:", "session store:")), exc
    record("disk.unusable_store_message", str(error)[:160])


class FailingWrites:
    """`os.write` for the session store that fails with EROFS once armed."""

    def __init__(self) -> None:
        self.armed = False
        self.real = os.write

    def __call__(self, fd: int, data: bytes) -> int:
        if self.armed:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return self.real(fd, data)


def test_read_only_store_mid_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_ls.agent.config import AgentConfig
    from agent_ls.core.service import AgentService
    from agent_ls.sessions import store as store_module

    home, workspace = tmp_path / "home", tmp_path / "project"
    workspace.mkdir()
    script = tmp_path / "turns.json"
    import json

    script.write_text(json.dumps(crash_child.script(1, 1) + crash_child.script(1, 2)))
    (workspace / "notes.txt").write_text(crash_child.notes_content(1, 1, "before"))
    writes = FailingWrites()
    monkeypatch.setattr(store_module.os, "write", writes)
    client = crash_child.Client()
    events: list[str] = []
    client.send_update = lambda sid, turn, event: events.append(type(event).__name__)  # type: ignore[method-assign]
    service = AgentService(
        [workspace],
        client,
        store_root=home,
        config=AgentConfig(provider="scripted", script=str(script)),
    )

    async def run() -> Any:
        sid = service.sessions.new(name=None, workspace=None).session_id
        first = (await service.prompting.prompt(sid, "first turn")).result
        assert first.stop_reason == "end_turn"
        [path] = session_files(home)
        kept, _ = read_lines(path)
        (workspace / "notes.txt").write_text(crash_child.notes_content(1, 2, "before"))
        events.clear()

        def arm(sid_: str, turn: str, event: Any) -> None:
            events.append(type(event).__name__)
            if type(event).__name__ == "TextChunk":
                writes.armed = True  # the store goes read-only mid-stream

        client.send_update = arm  # type: ignore[method-assign]
        try:
            second = (await service.prompting.prompt(sid, "second turn")).result
            outcome: Any = second.error or second.stop_reason
        except Exception as exc:
            outcome = exc
        writes.armed = False
        client.send_update = lambda *_: None  # type: ignore[method-assign]
        now, tail = read_lines(path)
        assert now[: len(kept)] == kept and tail == b""
        check_file(path)
        third = (await service.prompting.prompt(sid, "third turn")).result
        return outcome, third

    outcome, third = asyncio.run(run())
    assert "read-only" in str(outcome).lower(), outcome
    assert third.stop_reason == "end_turn"
    record("disk.read_only_outcome", str(outcome)[:160])
