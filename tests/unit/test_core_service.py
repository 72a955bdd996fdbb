"""The core in-process: sessions, prompting and checkpoints behind a recording editor port.

The provider is the scripted one (canned turns, no HTTP); files are real, in a temp folder.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.events import AgentEvent, CheckpointCreated, ToolCallStarted
from agent_ls.core.port import PermissionAnswer
from agent_ls.core.service import AgentService
from agent_ls.core.transcript import CheckpointItem, MessageItem
from agent_ls.lsp import protocol
from agent_ls.sessions.errors import SessionBusy


class RecordingEditor:
    """An editor port with no editor: no open buffers, answers from a list, events recorded."""

    def __init__(self, answers: list[PermissionAnswer] | None = None) -> None:
        self.events: list[tuple[str, str, AgentEvent]] = []
        self.asked: list[ToolCallStarted] = []
        self.answers = answers or []
        self.list_changes = 0

    def buffer_text(self, path: Path) -> str | None:
        return None

    def open_buffers(self) -> dict[Path, str]:
        return {}

    async def before_tool(self, session_id: str, paths: Sequence[str]) -> None:
        pass

    async def run_command(self, session_id: str, *args: Any) -> None:
        return None

    def more_tools(self, session_id: str) -> tuple[()]:
        return ()

    async def apply_text(self, path: Path, text: str) -> bool:
        return False

    async def ask_permission(self, session_id: str, call: ToolCallStarted) -> PermissionAnswer:
        self.asked.append(call)
        return self.answers.pop(0) if self.answers else "reject_once"

    def send_update(self, session_id: str, turn_id: str, event: AgentEvent) -> None:
        self.events.append((session_id, turn_id, event))

    def report_progress(self, session_id: str, message: str) -> None:
        pass

    def list_changed(self) -> None:
        self.list_changes += 1

    def applier(self) -> None:
        return None


def tool_turn(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"content": list(blocks)}


def say(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}]}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "notes.txt").write_text("old\n")
    return root.resolve()


def make_service(
    tmp_path: Path, workspace: Path, turns: list[dict[str, Any]], editor: RecordingEditor
) -> AgentService:
    script = tmp_path / "turns.json"
    script.write_text(json.dumps(turns))
    config = AgentConfig(provider="scripted", script=str(script))
    return AgentService([workspace], editor, store_root=tmp_path / "home", config=config)


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def edited(tmp_path: Path, workspace: Path, editor: RecordingEditor) -> Iterator[AgentService]:
    """A service whose first turn edits notes.txt and writes new.txt."""
    turns = [
        tool_turn(
            {"type": "text", "text": "Editing."},
            {
                "type": "tool_use",
                "name": "edit_file",
                "input": {"path": "notes.txt", "old_string": "old", "new_string": "new"},
            },
            {
                "type": "tool_use",
                "name": "write_file",
                "input": {"path": "new.txt", "content": "x"},
            },
        ),
        say("Done."),
    ]
    service = make_service(tmp_path, workspace, turns, editor)
    yield service
    for folder in service.sessions.folders:
        folder.store.close()


async def test_a_turn_changes_files_records_a_checkpoint_and_streams_events(
    edited: AgentService, editor: RecordingEditor, workspace: Path
) -> None:
    sid = edited.sessions.new(name=None, workspace=None).session_id
    outcome = await edited.prompting.prompt(sid, "edit the notes")
    assert outcome.result.stop_reason == "end_turn" and outcome.session_id == sid
    assert (workspace / "notes.txt").read_text() == "new\n"
    assert outcome.checkpoint is not None
    assert sorted(Path(f.path).name for f in outcome.checkpoint.files) == ["new.txt", "notes.txt"]
    kinds = [type(e).__name__ for _, _, e in editor.events]
    assert kinds[0] == "UserMessage" and kinds[-1] == "CheckpointCreated"
    assert kinds.count("ToolCallStarted") == 2
    assert not edited.turns.is_live(sid)


async def test_reloaded_transcript_agrees_with_the_live_update_on_every_checkpoint_field(
    tmp_path: Path, workspace: Path
) -> None:
    """Before the fix the transcript read a `restorable` key no entry has, so a file a command
    changed without a prior copy showed as restorable after a reload, and not live."""
    (workspace / "big.log").write_text("x" * 300_000)  # too big for the scanner to copy
    command = {"type": "tool_use", "name": "run_command", "input": {"command": "echo >> big.log"}}
    edit = {
        "type": "tool_use",
        "name": "edit_file",
        "input": {"path": "notes.txt", "old_string": "old", "new_string": "new"},
    }
    editor = RecordingEditor(answers=["allow_once"])
    edited = make_service(tmp_path, workspace, [tool_turn(edit, command), say("ok")], editor)
    sid = edited.sessions.new(name=None, workspace=None).session_id
    await edited.prompting.prompt(sid, "edit the notes")
    [live] = [e for _, _, e in editor.events if isinstance(e, CheckpointCreated)]
    update = protocol.event_to_update(sid, live)
    assert update is not None
    live_wire = update["checkpoint"]

    page = edited.sessions.switch(sid)
    [item] = [i for i in page.items if isinstance(i, CheckpointItem)]
    reloaded = protocol.transcript_item_to_wire(item, sid)

    shared = set(reloaded) - {"kind", "ts", "checkpointKind"}
    assert shared >= {"checkpointId", "entryId", "turnId", "createdAt", "files", "userEntryId"}
    for key in shared:
        if key == "files":
            for wire_file, live_file in zip(reloaded["files"], live_wire["files"], strict=True):
                assert wire_file == {k: live_file[k] for k in wire_file}, wire_file
                assert set(live_file) - set(wire_file) == {"conflict"}
        else:
            assert reloaded[key] == live_wire[key], key
    restorable = {Path(f["path"]).name: f["restorable"] for f in reloaded["files"]}
    assert restorable == {"notes.txt": True, "big.log": False}
    assert reloaded["checkpointKind"] == live_wire["kind"] == "turn"
    assert reloaded["ts"] == live_wire["createdAt"]
    # and the list agrees with the live update where nothing changed since
    [listed] = [protocol.checkpoint_to_wire(sid, s) for s in edited.checkpoints.list(sid)]
    assert listed == live_wire


async def test_reloaded_tool_calls_carry_the_titles_the_live_turn_had(
    edited: AgentService, editor: RecordingEditor
) -> None:
    sid = edited.sessions.new(name=None, workspace=None).session_id
    await edited.prompting.prompt(sid, "edit the notes")
    live = [e for _, _, e in editor.events if isinstance(e, ToolCallStarted)]
    page = edited.sessions.switch(sid)
    reloaded = [c for i in page.items if isinstance(i, MessageItem) for c in i.tool_calls]
    assert [(c.tool_call_id, c.title, c.kind, c.locations) for c in reloaded] == [
        (c.tool_call_id, c.title, c.kind, c.locations) for c in live
    ]
    assert [c.title for c in live] == ["Edit notes.txt", "Write new.txt"]


async def test_restore_reverts_and_names_an_undo(edited: AgentService, workspace: Path) -> None:
    sid = edited.sessions.new(name=None, workspace=None).session_id
    outcome = await edited.prompting.prompt(sid, "edit the notes")
    assert outcome.checkpoint is not None
    entry_id = outcome.checkpoint.checkpoint_id
    dry = await edited.checkpoints.restore(sid, entry_id, scope="files", dry_run=True, force=False)
    assert not dry.applied and {f.result for f in dry.files} == {"restored"}
    assert (workspace / "notes.txt").read_text() == "new\n"
    done = await edited.checkpoints.restore(
        sid, entry_id, scope="files", dry_run=False, force=False
    )
    assert done.applied and done.undo_entry_id
    assert (workspace / "notes.txt").read_text() == "old\n" and not (workspace / "new.txt").exists()
    [diff] = edited.checkpoints.diff(sid, entry_id, (workspace / "notes.txt").as_uri())
    assert "-old\n+new\n" in diff.diff


async def test_a_second_prompt_while_one_runs_is_busy(
    tmp_path: Path, workspace: Path, editor: RecordingEditor
) -> None:
    slow = {"content": [{"type": "text", "text": "slow " * 50}], "chunk_size": 5, "delay_ms": 5}
    service = make_service(tmp_path, workspace, [slow], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.provider()  # made, as the server does at `initialized`
    running = asyncio.ensure_future(service.prompting.prompt(sid, "go"))
    while not service.turns.is_live(sid):
        await asyncio.sleep(0.01)
    with pytest.raises(SessionBusy):
        await service.prompting.prompt(sid, "me too")
    with pytest.raises(SessionBusy):
        service.sessions.delete(sid)
    assert service.prompting.cancel(sid)
    assert (await running).result.stop_reason == "cancelled"
    assert not service.prompting.cancel(sid)  # a late cancel is not an error


async def test_a_cancel_before_the_turn_starts_answers_cancelled_and_frees_the_session(
    tmp_path: Path, workspace: Path, editor: RecordingEditor
) -> None:
    service = make_service(tmp_path, workspace, [say("never"), say("second")], editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.provider()
    running = asyncio.ensure_future(service.prompting.prompt(sid, "go"))
    while sid not in service.turns.tasks:  # registered, and its first step not run yet
        await asyncio.sleep(0)
    task = service.turns.tasks[sid]
    task.cancel()  # before its first step: its own clean-up never runs
    assert (await running).result.stop_reason == "cancelled"
    second = await service.prompting.prompt(sid, "again")  # the writer's lock was released
    assert second.result.stop_reason == "end_turn"


async def test_allow_always_is_remembered_for_the_session(tmp_path: Path, workspace: Path) -> None:
    """The turn host's allow-always path: asked once, the second command runs unasked."""
    command = {"type": "tool_use", "name": "run_command", "input": {"command": "echo hi"}}
    turns = [tool_turn(command), tool_turn(command), say("ran twice")]
    editor = RecordingEditor(answers=["allow_always"])
    service = make_service(tmp_path, workspace, turns, editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    outcome = await service.prompting.prompt(sid, "run it twice")
    assert outcome.result.stop_reason == "end_turn"
    assert [c.title for c in editor.asked] == ["Run `echo hi`"]
    finished = [
        e for _, _, e in editor.events if type(e).__name__ == "ToolCallUpdated" and e.content
    ]
    assert [e.status for e in finished] == ["completed", "completed"]
    permissions = service.prompting.permissions[sid]
    assert permissions.decide("run_command", "execute", {"command": "echo hi"}) == "allow"
    assert permissions.decide("run_command", "execute", {"command": "rm -rf x"}) == "ask"


async def test_reject_always_is_remembered_too(tmp_path: Path, workspace: Path) -> None:
    command = {"type": "tool_use", "name": "run_command", "input": {"command": "echo hi"}}
    turns = [tool_turn(command), tool_turn(command), say("refused twice")]
    editor = RecordingEditor(answers=["reject_always"])
    service = make_service(tmp_path, workspace, turns, editor)
    sid = service.sessions.new(name=None, workspace=None).session_id
    await service.prompting.prompt(sid, "run it twice")
    assert len(editor.asked) == 1
    permissions = service.prompting.permissions[sid]
    assert permissions.decide("run_command", "execute", {"command": "echo hi"}) == "deny"


async def test_the_watch_reports_another_process_writing(
    tmp_path: Path, workspace: Path, editor: RecordingEditor
) -> None:
    from agent_ls.sessions import SessionStore

    service = make_service(tmp_path, workspace, [], editor)
    watch = service.watch(0.02)
    other = SessionStore(workspace, root=tmp_path / "home")
    try:
        other.create(name="from another window")
        for _ in range(100):
            if editor.list_changes:
                break
            await asyncio.sleep(0.02)
        assert editor.list_changes == 1
        service.sessions.new(name=None, workspace=None)  # our own write is not announced
        await asyncio.sleep(0.1)
        assert editor.list_changes == 1
    finally:
        watch.cancel()
        other.close()


async def test_a_background_task_that_fails_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    from agent_ls.core.tasks import spawn

    async def broken() -> None:
        raise RuntimeError("the disk went away")

    task = spawn(broken(), "store watch")
    with pytest.raises(RuntimeError):
        await task
    await asyncio.sleep(0)  # done-callbacks run on the next loop pass
    assert "background task store watch failed: the disk went away" in caplog.text
    quiet = spawn(asyncio.sleep(10), "cancelled one")
    quiet.cancel()
    await asyncio.sleep(0)
    assert "cancelled one" not in caplog.text
