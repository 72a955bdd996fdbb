"""A process the crash test kills: the service running turns back to back, no LSP in between.

    python -m tests.reliability.crash_child HOME WORKSPACE SEED

Each turn (scripted provider) streams text, writes a new file and edits `notes.txt` with tools,
then ends with a checkpoint. The child prints one line per event (`<turn> <EventName>`) so the
parent knows where it killed it. Every content it writes is a function of (seed, turn), so the
parent can tell a whole file from a half-written one.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

MAX_TURNS = 40
NOTES_PAD = "padding line that makes notes.txt long enough to tear\n" * 2000


def big_content(seed: int, turn: int) -> str:
    return f"big file of seed {seed} turn {turn}\n" * 4000


def notes_content(seed: int, turn: int, state: str) -> str:
    return f"state: {state}-{seed}-{turn}\n{NOTES_PAD}"


def script(seed: int, turn: int) -> list[dict[str, Any]]:
    """The model's side of one turn: text, two tool calls, text."""
    return [
        {
            "content": [
                {"type": "text", "text": f"Working on turn {turn}. " * 12},
                {
                    "type": "tool_use",
                    "name": "write_file",
                    "input": {"path": f"big_{seed}_{turn}.txt", "content": big_content(seed, turn)},
                },
                {
                    "type": "tool_use",
                    "name": "edit_file",
                    "input": {
                        "path": "notes.txt",
                        "old_string": f"state: before-{seed}-{turn}\n",
                        "new_string": f"state: after-{seed}-{turn}\n",
                    },
                },
            ],
            "chunk_size": 4096,
        },
        {
            "content": [{"type": "text", "text": f"Done with turn {turn}. " * 8}],
            "chunk_size": 16,
            "delay_ms": 2,
        },
    ]


class Client:
    """The core's EditorPort without an editor: events go to stdout."""

    def __init__(self) -> None:
        self.turn = 0

    def buffer_text(self, path: Path) -> None:
        return None

    def open_buffers(self) -> dict[Path, str]:
        return {}

    async def before_tool(self, session_id: str, paths: Any) -> None:
        pass

    async def run_command(self, session_id: str, *args: Any) -> None:
        return None  # no terminals: the tool runs the command itself

    def more_tools(self, session_id: str) -> tuple[()]:
        return ()

    async def apply_text(self, path: Path, text: str) -> bool:
        return False

    async def ask_permission(self, session_id: str, call: Any) -> str:
        return "allow_once"

    def send_update(self, session_id: str, turn_id: str, event: Any) -> None:
        print(f"{self.turn} {type(event).__name__}", flush=True)

    def report_progress(self, session_id: str, message: str) -> None:
        pass

    def list_changed(self) -> None:
        pass

    def applier(self) -> None:
        return None


async def main(home: Path, workspace: Path, seed: int) -> None:
    import json

    from agent_ls.agent.config import AgentConfig
    from agent_ls.core.service import AgentService
    from agent_ls.files.atomic import write_atomic

    turns_file = home.parent / f"child-{seed}.json"
    turns_file.write_text(json.dumps([t for n in range(1, MAX_TURNS + 1) for t in script(seed, n)]))
    # the tool inputs are big: no compaction (it would take a scripted reply as its summary)
    config = AgentConfig(provider="scripted", script=str(turns_file), context_window=10**9)
    client = Client()
    service = AgentService([workspace], client, store_root=home, config=config)
    store = service.sessions.folders[0].store
    sessions = [info.session_id for info in store.list(limit=None)[0]]
    print("ready", flush=True)
    for turn in range(1, MAX_TURNS + 1):
        client.turn = turn
        if len(sessions) < 3 or turn % 4 == 0:
            sessions.append(service.sessions.new(name=None, workspace=None).session_id)
        session_id = sessions[(seed + turn) % len(sessions)]
        write_atomic(workspace / "notes.txt", notes_content(seed, turn, "before").encode())
        print(f"{turn} start {session_id}", flush=True)
        result = (await service.prompting.prompt(session_id, f"turn {turn} of seed {seed}")).result
        assert result.stop_reason == "end_turn", result
        print(f"{turn} end", flush=True)
    print("finished", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])))
