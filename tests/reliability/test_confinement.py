"""Confinement and secrets: tools stay in the workspace, restore too, ids stay in the store,
files are private, and the API key is never written anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from agent_ls.checkpoints.blobs import BlobStore
from tests.e2e.harness import REPO, connect, server_env
from tests.fakes.anthropic_server import FakeAnthropic
from tests.reliability.support import (
    FAKE_KEY,
    INVALID_PARAMS,
    check_file,
    record,
    session_files,
    store_modes,
)

pytestmark = pytest.mark.reliability

SECRET = "TOP-SECRET-OUTSIDE-THE-WORKSPACE"


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": tool_input}


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    workspace, outside, home = tmp_path / "project", tmp_path / "outside", tmp_path / "home"
    workspace.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (workspace / "inside.txt").write_text("inside\n")
    (workspace / "link_file").symlink_to(outside / "secret.txt")
    (workspace / "link_dir").symlink_to(outside)
    return workspace, outside, home


def outside_state(outside: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outside.iterdir())}


async def test_tools_cannot_leave_the_workspace(layout: tuple[Path, Path, Path]) -> None:
    workspace, outside, home = layout
    before = outside_state(outside)
    escapes = [
        tool("read_file", path="../outside/secret.txt"),
        tool("read_file", path=str(outside / "secret.txt")),
        tool("read_file", path="link_file"),
        tool("read_file", path="link_dir/secret.txt"),
        tool("list_files", path=".."),
        tool("list_files", path="link_dir"),
        tool("grep", pattern="SECRET", path=".."),
        tool("grep", pattern="SECRET", path="link_dir"),
        tool("write_file", path="../outside/new.txt", content="escaped"),
        tool("write_file", path=str(outside / "abs.txt"), content="escaped"),
        tool("write_file", path="link_file", content="overwritten"),
        tool("write_file", path="link_dir/new.txt", content="escaped"),
        tool("edit_file", path="link_file", old_string="TOP", new_string="X"),
        tool("edit_file", path="link_dir/secret.txt", old_string="TOP", new_string="X"),
        tool("write_file", path="inside/../../outside/dots.txt", content="escaped"),
    ]
    with FakeAnthropic() as api:
        api.enqueue({"content": escapes}, {"content": [{"type": "text", "text": "done"}]})
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect([workspace], home, env=env) as agent:
            result = await agent.request("agent/session/prompt", {"prompt": "escape"}, 60)
            assert result["stopReason"] == "end_turn"
            ends = [
                u["update"]
                for u in agent.updates
                if u["update"]["kind"] == "tool_call_update"
                and u["update"]["status"] in ("completed", "failed")
            ]
            updates_text = json.dumps(agent.updates)
        sent_back = json.dumps(api.requests[-1]["body"]["messages"][-1])
    assert len(ends) == len(escapes)
    assert all(end["status"] == "failed" for end in ends), [e["status"] for e in ends]
    assert outside_state(outside) == before
    assert SECRET not in updates_text and SECRET not in sent_back
    assert "outside the workspace" in sent_back
    for path in session_files(home):
        assert SECRET not in path.read_text()
    record("confinement.escape_attempts_refused", len(escapes))


async def test_restore_refuses_paths_outside(layout: tuple[Path, Path, Path]) -> None:
    """A crafted checkpoint entry naming files outside the workspace restores nothing there."""
    workspace, outside, home = layout
    async with connect([workspace], home, env={"AGENT_LS_PROVIDER": "scripted"}) as agent:
        session = await agent.request("agent/session/new", {})
        sid = session["sessionId"]
        await agent.request("agent/session/prompt", {"sessionId": sid, "prompt": "hello"})
        [path] = session_files(home)
        store_dir = path.parent.parent
        sha = BlobStore(store_dir / "blobs").put(b"planted by a crafted checkpoint\n")
        targets = [
            str(outside / "victim.txt"),
            f"{workspace}/../outside/dots.txt",
            str(workspace / "link_dir" / "via_link.txt"),
            str(workspace / "link_file"),
        ]
        entries = check_file(path)
        crafted = {
            "type": "checkpoint",
            "id": "evil0001",
            "parentId": entries[-1]["id"],
            "ts": "2026-01-01T00:00:00.000Z",
            "turnId": entries[1]["id"],
            "kind": "turn",
            "files": [{"path": t, "before": sha, "after": None} for t in targets],
        }
        with open(path, "a") as handle:
            handle.write(json.dumps(crafted) + "\n")
        before = outside_state(outside)
        for force in (False, True):
            try:
                result = await agent.request(
                    "agent/checkpoint/restore",
                    {"checkpointId": f"{sid}:evil0001", "force": force},
                )
            except Exception as exc:  # a JSON-RPC error is a refusal too
                result = {"error": str(exc)}
            assert outside_state(outside) == before, result
            for item in result.get("files", []):
                assert item["result"] in ("failed", "conflict", "unchanged"), item
    assert (outside / "secret.txt").read_text() == SECRET + "\n"


BAD_IDS = ["../x", "..", "../../etc/passwd", "/etc/passwd", "a/../b", "x/..", ".", "a\\b"]


async def test_session_ids_cannot_name_paths(layout: tuple[Path, Path, Path]) -> None:
    workspace, outside, home = layout
    async with connect([workspace], home, env={"AGENT_LS_PROVIDER": "scripted"}) as agent:
        for bad in BAD_IDS:
            for method, params in [
                ("agent/session/switch", {"sessionId": bad}),
                ("agent/session/history", {"sessionId": bad}),
                ("agent/session/rename", {"sessionId": bad, "name": "n"}),
                ("agent/session/delete", {"sessionId": bad}),
                ("agent/session/fork", {"sessionId": bad}),
                ("agent/session/prompt", {"sessionId": bad, "prompt": "p"}),
                ("agent/checkpoint/list", {"sessionId": bad}),
                ("agent/checkpoint/diff", {"checkpointId": f"{bad}:abc"}),
                ("agent/checkpoint/restore", {"checkpointId": f"{bad}:abc"}),
            ]:
                error = await agent.error(method, params)
                assert error.code == INVALID_PARAMS, (method, bad, error)
    env = server_env(home)
    for bad in BAD_IDS:
        for command in (
            ["show", bad],
            ["rename", bad, "n"],
            ["delete", bad],
            ["fork", bad],
            ["checkpoints", bad],
            ["restore", f"{bad}:abc"],
        ):
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "agent_ls",
                    "sessions",
                    *command,
                    "--workspace",
                    str(workspace),
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=REPO,
                timeout=60,
            )
            assert run.returncode != 0, (command, run.stdout)
            assert "Traceback" not in run.stderr, run.stderr
    assert outside_state(outside)["secret.txt"] == (SECRET + "\n").encode()
    record("confinement.bad_ids_refused_over_lsp_and_cli", len(BAD_IDS) * 15)


async def test_private_files_and_no_key_anywhere(
    layout: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    workspace, _, home = layout
    log_file = tmp_path / "server.log"
    with FakeAnthropic() as api:
        api.enqueue(
            {"content": [tool("write_file", path="made.txt", content="made\n")]},
            {"content": [{"type": "text", "text": "wrote it"}]},
            {"content": [tool("run_command", command="env; echo $ANTHROPIC_API_KEY")]},
            {"content": [{"type": "text", "text": "ran it"}]},
            {"error": {"status": 401, "message": "invalid x-api-key"}},
        )
        env = {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": api.base_url}
        async with connect(
            [workspace],
            home,
            env=env,
            options={"permissionUi": True},
            args=["--log-file", str(log_file), "--log-level", "DEBUG"],
        ) as agent:

            @agent.client.feature("agent/session/requestPermission")
            def allow(_: Any) -> dict[str, Any]:
                return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

            outcomes = [
                await agent.request("agent/session/prompt", {"prompt": p}, 60)
                for p in ("write", "run env", "fail")
            ]
            assert [o["stopReason"] for o in outcomes] == ["end_turn", "end_turn", "error"]
            errors = [str(await agent.error("agent/session/switch", {"sessionId": "../x"}))]
            seen = json.dumps([agent.updates, outcomes, errors, agent.messages])
        assert api.requests[0]["headers"].get("authorization") is None  # hidden by the fake
    assert (workspace / "made.txt").read_text() == "made\n"
    assert FAKE_KEY not in seen
    assert FAKE_KEY not in log_file.read_text(errors="replace")
    everything = b""
    for path, mode in store_modes(home):
        if path.is_dir():
            assert mode == 0o700, (path, oct(mode))
            continue
        everything += path.read_bytes()
        if path.suffix in (".jsonl", ".lock") or "blobs" in path.parts:
            assert mode == 0o600, (path, oct(mode))
        if "blobs" in path.parts and path.is_file() and not path.name.endswith(".tmp"):
            everything += zlib.decompress(path.read_bytes())
    assert FAKE_KEY.encode() not in everything
    modes = sorted({oct(mode) for path, mode in store_modes(home) if path.is_file()})
    record("confinement.store_file_modes", modes)
