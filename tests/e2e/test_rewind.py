"""Rewind, all-or-nothing restore, merges and hunk reverts through the real server over stdio
(the real SDK against the fake API writes the files), and `agent-ls sessions rewind`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.harness import Agent, connect, server_env
from tests.e2e.test_checkpoints import done, write
from tests.fakes.anthropic_server import FakeAnthropic

BASE = "".join(f"line {i}\n" for i in range(1, 21))


def lines(*changes: tuple[int, str]) -> str:
    """BASE with some lines (1-based) replaced."""
    out = BASE.splitlines(keepends=True)
    for number, text in changes:
        out[number - 1] = text
    return "".join(out)


def env(api: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "k"}


async def user_entries(agent: Agent, session_id: str) -> list[tuple[str, str]]:
    """(entryId, text) of the user messages on the active path."""
    page = await agent.request("agent/session/switch", {"sessionId": session_id})
    return [(i["entryId"], i["content"][0]["text"]) for i in page["items"] if i["kind"] == "user"]


def by_name(result: dict[str, Any]) -> dict[str, str]:
    return {Path(f["path"]).name: f["result"] for f in result["files"]}


async def test_rewind_to_the_second_of_four_messages_and_undo_it(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "a.txt").write_text("v0\n")
    for n in range(1, 5):
        api.enqueue(write("a.txt", f"v{n}\n"), write(f"f{n}.txt", f"{n}\n"), done())
    async with connect([workspace], tmp_path / "home", env=env(api)) as agent:
        for n in range(1, 5):
            result = await agent.request("agent/session/prompt", {"prompt": f"p{n}"})
        session_id = result["sessionId"]
        users = await user_entries(agent, session_id)
        assert [text for _, text in users] == ["p1", "p2", "p3", "p4"]
        second = users[1][0]

        plan = await agent.request(
            "agent/session/rewind", {"sessionId": session_id, "entryId": second, "dryRun": True}
        )
        assert not plan["applied"] and by_name(plan)["f2.txt"] == "restored"
        assert (workspace / "f4.txt").exists()

        rewound = await agent.request(
            "agent/session/rewind", {"sessionId": session_id, "entryId": second}
        )
        assert rewound["applied"]
        assert by_name(rewound) == {n: "restored" for n in ("a.txt", "f2.txt", "f3.txt", "f4.txt")}
        assert (workspace / "a.txt").read_text() == "v1\n"
        assert (workspace / "f1.txt").exists()
        assert not any((workspace / f"f{n}.txt").exists() for n in (2, 3, 4))
        assert [text for _, text in await user_entries(agent, session_id)] == ["p1"]
        assert "leafEntryId" in rewound and rewound["leafEntryId"] != second

        undo = await agent.request(
            "agent/checkpoint/restore",
            {"checkpointId": rewound["undoCheckpointId"], "scope": "both"},
        )
        assert undo["applied"] and set(by_name(undo).values()) == {"restored"}
        assert (workspace / "a.txt").read_text() == "v4\n"
        assert all((workspace / f"f{n}.txt").exists() for n in (2, 3, 4))
        assert [text for _, text in await user_entries(agent, session_id)] == [
            "p1", "p2", "p3", "p4"
        ]  # fmt: skip

        err = await agent.error(
            "agent/session/rewind", {"sessionId": session_id, "entryId": "00000000"}
        )
        assert err.code == -32602 and "entryId" in str(err)  # type: ignore[attr-defined]
        err = await agent.error("agent/session/rewind", {"sessionId": "nope", "entryId": second})
        assert err.code == -32010  # type: ignore[attr-defined]


async def test_a_conflicting_revert_applies_nothing_until_partial_or_force(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "a.txt").write_text("agent will change this\n")
    api.enqueue(write("a.txt", "agent's version\n"), write("b.py", "import a\n"), done())
    async with connect([workspace], tmp_path / "home", env=env(api)) as agent:
        turn = await agent.request("agent/session/prompt", {"prompt": "edit"})
        (workspace / "a.txt").write_text("the user's version\n")
        listed = await agent.request("agent/checkpoint/list", {"sessionId": turn["sessionId"]})
        restore = {"checkpointId": turn["checkpointId"], "scope": "files"}

        refused = await agent.request("agent/checkpoint/restore", restore)
        assert not refused["applied"] and "undoCheckpointId" not in refused
        assert by_name(refused) == {"a.txt": "conflict", "b.py": "restored"}
        assert (workspace / "b.py").exists()  # nothing written
        after = await agent.request("agent/checkpoint/list", {"sessionId": turn["sessionId"]})
        assert after == listed  # no undo checkpoint either

        partial = await agent.request("agent/checkpoint/restore", {**restore, "partial": True})
        assert partial["applied"] and by_name(partial) == {"a.txt": "skipped", "b.py": "restored"}
        assert not (workspace / "b.py").exists()
        assert (workspace / "a.txt").read_text() == "the user's version\n"
        await agent.request(
            "agent/checkpoint/restore", {"checkpointId": partial["undoCheckpointId"]}
        )
        assert (workspace / "b.py").exists()

        forced = await agent.request("agent/checkpoint/restore", {**restore, "force": True})
        assert forced["applied"] and by_name(forced) == {"a.txt": "restored", "b.py": "restored"}
        assert (workspace / "a.txt").read_text() == "agent will change this\n"
        undo = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": forced["undoCheckpointId"]}
        )
        assert by_name(undo) == {"a.txt": "restored", "b.py": "restored"}
        assert (workspace / "a.txt").read_text() == "the user's version\n"
        assert (workspace / "b.py").read_text() == "import a\n"


async def test_a_merge_keeps_the_users_non_overlapping_edit(
    api: FakeAnthropic, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "m.txt").write_text(BASE)
    api.enqueue(write("m.txt", lines((15, "agent 15\n"))), done())
    async with connect([workspace], tmp_path / "home", env=env(api)) as agent:
        turn = await agent.request("agent/session/prompt", {"prompt": "edit"})
        (workspace / "m.txt").write_text(lines((2, "user 2\n"), (15, "agent 15\n")))
        result = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": turn["checkpointId"]}
        )
        assert result["applied"] and by_name(result) == {"m.txt": "merged"}
        assert (workspace / "m.txt").read_text() == lines((2, "user 2\n"))


async def test_revert_one_hunk(api: FakeAnthropic, workspace: Path, tmp_path: Path) -> None:
    (workspace / "h.txt").write_text(BASE)
    api.enqueue(write("h.txt", lines((2, "two\n"), (15, "fifteen\n"))), done())
    async with connect([workspace], tmp_path / "home", env=env(api)) as agent:
        turn = await agent.request("agent/session/prompt", {"prompt": "edit"})
        uri = (workspace / "h.txt").resolve().as_uri()
        diff = await agent.request("agent/checkpoint/diff", {"checkpointId": turn["checkpointId"]})
        [file] = diff["files"]
        assert [h["header"] for h in file["hunks"]] == ["@@ -1,5 +1,5 @@", "@@ -12,7 +12,7 @@"]

        params = {"checkpointId": turn["checkpointId"], "uri": uri, "hunks": [1]}
        result = await agent.request("agent/checkpoint/revertHunks", params)
        assert result["applied"] and by_name(result) == {"h.txt": "restored"}
        assert (workspace / "h.txt").read_text() == lines((2, "two\n"))
        undo = await agent.request(
            "agent/checkpoint/restore", {"checkpointId": result["undoCheckpointId"]}
        )
        assert undo["applied"]
        assert (workspace / "h.txt").read_text() == lines((2, "two\n"), (15, "fifteen\n"))

        err = await agent.error("agent/checkpoint/revertHunks", {**params, "hunks": [5]})
        assert err.code == -32602 and "hunks" in str(err)  # type: ignore[attr-defined]
        err = await agent.error("agent/checkpoint/revertHunks", {**params, "hunks": []})
        assert err.code == -32602  # type: ignore[attr-defined]


async def test_the_rewind_command(api: FakeAnthropic, workspace: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (workspace / "a.txt").write_text("v0\n")
    api.enqueue(write("a.txt", "v1\n"), done(), write("a.txt", "v2\n"), done())
    async with connect([workspace], home, env=env(api)) as agent:
        await agent.request("agent/session/prompt", {"prompt": "p1"})
        turn = await agent.request("agent/session/prompt", {"prompt": "p2"})
        session_id = turn["sessionId"]
        second = (await user_entries(agent, session_id))[1][0]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "agent_ls", "sessions", "rewind", session_id, *args]
        return subprocess.run(
            [*command, "--workspace", str(workspace)],
            env=server_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    shown = cli(second, "--dry-run")
    assert shown.returncode == 0 and "would revert" in shown.stdout
    assert (workspace / "a.txt").read_text() == "v2\n"
    done_ = cli(second, "--json")
    assert done_.returncode == 0, done_.stderr
    out = json.loads(done_.stdout)
    assert out["applied"] and out["undoCheckpointId"]
    assert (workspace / "a.txt").read_text() == "v1\n"
    missing = cli("ffffffff")
    assert missing.returncode == 1 and "entryId: ffffffff is not an entry" in missing.stderr
    assert "Traceback" not in missing.stderr
