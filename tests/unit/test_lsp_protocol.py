"""The wire module in-process: event → update, strict params, error codes, options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_ls.agent import events as ev
from agent_ls.checkpoints.errors import AmbiguousCheckpoint, CheckpointNotFound
from agent_ls.checkpoints.listing import CheckpointSummary, FileSummary
from agent_ls.core.branch_point import TurnRequestError
from agent_ls.lsp import protocol
from agent_ls.lsp.options import OPTIONS, parse_options
from agent_ls.lsp.params import ParamsError, structure
from agent_ls.lsp.server import domain_error
from agent_ls.sessions.errors import (
    EntryNotFound,
    InvalidSessionId,
    SessionBusy,
    SessionNotFound,
    StoreError,
)

SUMMARY = CheckpointSummary(
    checkpoint_id="e9",
    turn_id="e1",
    kind="turn",
    created_at="2026-11-30T00:00:00.000Z",
    user_entry_id="e1",
    prompt="fix it",
    active=True,
    files=[FileSummary("/w/a.py", "modified", True, False)],
)


EVENTS: list[tuple[ev.AgentEvent, dict[str, Any]]] = [
    (
        ev.UserMessage("e1", [{"type": "text", "text": "hi"}]),
        {"kind": "user_message", "entryId": "e1", "content": [{"type": "text", "text": "hi"}]},
    ),
    (
        ev.TextChunk("a"),
        {"kind": "agent_message_chunk", "content": {"type": "text", "text": "a"}},
    ),
    (
        ev.ThoughtChunk("b"),
        {"kind": "agent_thought_chunk", "content": {"type": "text", "text": "b"}},
    ),
    (
        ev.ToolCallStarted("c1", "Read a.py", "read", {"path": "a.py"}, ["/w/a.py"]),
        {
            "kind": "tool_call",
            "toolCallId": "c1",
            "title": "Read a.py",
            "toolKind": "read",
            "status": "pending",
            "rawInput": {"path": "a.py"},
            "locations": [{"path": "/w/a.py"}],
            "content": [],
        },
    ),
    (
        ev.ToolCallUpdated(
            "c1",
            "completed",
            [ev.TextContent("ok"), ev.DiffContent("/w/a.py", None, "x")],
            ["/w/a.py"],
        ),
        {
            "kind": "tool_call_update",
            "toolCallId": "c1",
            "status": "completed",
            "content": [
                {"type": "content", "content": {"type": "text", "text": "ok"}},
                {"type": "diff", "path": "/w/a.py", "oldText": None, "newText": "x"},
            ],
            "locations": [{"path": "/w/a.py"}],
        },
    ),
    (
        ev.UsageReported({"input_tokens": 3, "cache_read_input_tokens": 1}, "m"),
        {"kind": "usage", "usage": {"inputTokens": 3, "cacheReadInputTokens": 1}, "model": "m"},
    ),
    (ev.AssistantMessage("e5"), {"kind": "agent_message_end", "entryId": "e5"}),
    (
        ev.TurnEnded("e7", "2026-11-30T00:00:01.000Z", "error", "Overloaded."),
        {
            "kind": "turn_end",
            "entryId": "e7",
            "ts": "2026-11-30T00:00:01.000Z",
            "stopReason": "error",
            "error": "Overloaded.",
        },
    ),
    (
        ev.CheckpointCreated(SUMMARY),
        {
            "kind": "checkpoint",
            "checkpoint": {
                "checkpointId": "S:e9",
                "entryId": "e9",
                "turnId": "e1",
                "createdAt": "2026-11-30T00:00:00.000Z",
                "userEntryId": "e1",
                "kind": "turn",
                "prompt": "fix it",
                "active": True,
                "files": [
                    {
                        "uri": "file:///w/a.py",
                        "path": "/w/a.py",
                        "operation": "modified",
                        "restorable": True,
                        "conflict": False,
                    }
                ],
            },
        },
    ),
]


@pytest.mark.parametrize(("event", "update"), EVENTS)
def test_every_event_has_its_update(event: ev.AgentEvent, update: dict[str, Any]) -> None:
    assert protocol.event_to_update("S", event) == update
    assert update["kind"] in protocol.UPDATE_KINDS
    assert protocol.update_to_wire("S", "e1", event) == {
        "sessionId": "S",
        "turnId": "e1",
        "update": update,
    }


def test_each_update_kind_has_an_event() -> None:
    events = [e for e, _ in EVENTS]
    assert sorted(protocol.event_to_update("S", e)["kind"] for e in events) == sorted(  # type: ignore[index]
        protocol.UPDATE_KINDS
    )
    assert {type(e) for e in events} == set(ev.AgentEvent.__args__)  # type: ignore[attr-defined]


def _image(media_type: str, data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        (protocol.SESSION_SWITCH, {}, "sessionId: required field is missing"),
        (protocol.SESSION_SWITCH, {"sessionId": 5}, "sessionId: expected a string, got an integer"),
        (protocol.SESSION_SWITCH, {"sessionId": "../x"}, "sessionId: not a session id"),
        (protocol.SESSION_LIST, {"limit": 0}, "limit: must be between 1 and 1000"),
        (protocol.SESSION_LIST, {"limit": True}, "limit: expected an integer, got a boolean"),
        (protocol.SESSION_PROMPT, {"prompt": "  "}, "prompt: must not be empty"),
        (
            protocol.SESSION_PROMPT,
            {"prompt": "x", "context": [{"uri": "file:///a", "range": {"start": {}}}]},
            "context[0].range.start.line: required field is missing",
        ),
        (
            protocol.CHECKPOINT_RESTORE,
            {"checkpointId": "s:e", "scope": "everything"},
            "scope: must be one of",
        ),
        (protocol.CHECKPOINT_DIFF, {"checkpointId": "nocolon"}, "checkpointId: not a checkpoint"),
        (protocol.SESSION_NEW, [], "params: expected an object, got an array"),
        (
            protocol.SESSION_PROMPT,
            {"prompt": [{"type": "image", "source": {"type": "url", "url": "http://x"}}]},
            'prompt[0]: an image block needs source: {type: "base64"',
        ),
        (
            protocol.SESSION_PROMPT,
            {"prompt": [_image("image/tiff", "AAAA")]},
            "prompt[0]: an image of type 'image/tiff' cannot be sent; use one of image/png",
        ),
        (
            protocol.SESSION_PROMPT,
            {"prompt": [_image("image/png", "not base64!")]},
            "prompt[0]: an image's data is not valid base64",
        ),
        (
            protocol.SESSION_PROMPT,
            {"prompt": [_image("image/png", "A" * (8 * 1024 * 1024))]},
            "prompt[0]: an image of 6.0 MB is over the API's 5 MB limit",
        ),
        (protocol.SESSION_NEW, {"name": "\udcff"}, "lone surrogate"),
    ],
)
def test_bad_params_name_the_camel_case_field(method: str, params: Any, message: str) -> None:
    with pytest.raises(ParamsError) as caught:
        structure(params, protocol.PARAMS[method])
    assert str(caught.value).startswith(message) or message in str(caught.value)


def test_good_params_structure_with_defaults() -> None:
    p = structure({"checkpointId": "s:e", "dryRun": True}, protocol.CheckpointRestoreParams)
    assert (p.checkpoint_id, p.scope, p.dry_run, p.force) == ("s:e", "files", True, False)
    image = _image("image/webp", "UklGRg==")
    prompt = structure({"prompt": [image]}, protocol.PromptParams)
    assert prompt.prompt == [image]
    listed = structure({"allWorkspaces": True, "unknown": 1}, protocol.ListParams)
    assert listed.all_workspaces and listed.limit == 50


def test_attachments_drop_a_last_line_selected_only_up_to_its_start() -> None:
    ref = structure(
        {
            "uri": "file:///w/a.py",
            "range": {"start": {"line": 2, "character": 0}, "end": {"line": 5, "character": 0}},
        },
        protocol.ContextRef,
    )
    attachment = protocol.attachment(ref)
    assert attachment.path == Path("/w/a.py") and attachment.lines == (2, 4)


RESERVED = [range(-32700, -32599), range(-32803, -32799), [-32002, -32001]]


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (InvalidSessionId("x"), "invalid_params"),
        (EntryNotFound("s", "e"), "invalid_params"),
        (TurnRequestError("nothing to retry"), "invalid_params"),
        (SessionNotFound("x"), "session_not_found"),
        (SessionBusy("x", 42), "session_busy"),
        (CheckpointNotFound("x"), "checkpoint_not_found"),
        (AmbiguousCheckpoint("x", ["a", "b"]), "checkpoint_failed"),
        (StoreError("disk"), "internal"),
        (OSError("disk"), "internal"),
    ],
)
def test_each_failure_has_a_stable_kind_and_an_application_code(exc: Exception, kind: str) -> None:
    error = domain_error(exc)
    assert error.data["kind"] == kind and error.code == protocol.ERRORS[kind]
    if kind not in ("invalid_params", "internal"):  # those two keep JSON-RPC's own meaning
        assert not any(error.code in reserved for reserved in RESERVED), error.code
    if kind == "session_busy":
        assert error.data["ownerPid"] == 42


def test_error_codes_are_distinct() -> None:
    assert len(set(protocol.ERRORS.values())) == len(protocol.ERRORS)


def test_options_have_defaults_and_one_warning_path(tmp_path: Path) -> None:
    options, warnings = parse_options(None, {})
    assert warnings == [] and options.watch_interval == 1.0 and not options.permission_ui
    options, warnings = parse_options(
        {
            "sessionDir": str(tmp_path),
            "permissionUi": True,
            "watchInterval": 0.05,
            "permissionPolicy": {"run_command": "allow"},
            "client": "vscode",
        },
        {},
    )
    assert warnings == []
    assert options.session_dir == tmp_path and options.permission_ui
    assert options.watch_interval == 0.05 and options.client == "vscode"
    assert options.agent.permissions["run_command"] == "allow"


def test_bad_and_unknown_options_become_warnings_not_failures() -> None:
    options, warnings = parse_options(
        {
            "sessionDir": 5,
            "permissionUi": "yes",
            "watchInterval": -1,
            "maxTokens": "lots",
            "permissions": {"run_command": "allow"},  # the old second name: not read
        },
        {},
    )
    assert options.session_dir is None and not options.permission_ui
    assert options.watch_interval == 1.0 and options.agent.max_tokens == 8192
    assert "run_command" not in options.agent.permissions
    assert len(warnings) == 5
    assert any("permissions is not an option" in w for w in warnings)
    assert all(w.startswith("initializationOptions") for w in warnings)
    assert parse_options("nonsense", {})[1]
    assert "permissions" not in OPTIONS and "permissionPolicy" in OPTIONS


def test_stored_content_nested_too_deep_is_shown_as_a_note() -> None:
    """Before, a 900-deep entry made switch/history answer -32603 (the reply could not be
    encoded); now the page answers and the message says why it is not shown."""
    import json

    from agent_ls.core.transcript import MessageItem

    deep: Any = []
    for _ in range(900):
        deep = [deep]
    item = protocol.transcript_item_to_wire(MessageItem("m1", "t", "user", deep), "S")
    assert "nests deeper than" in item["content"][0]["text"]
    json.dumps(item)
    fine = [{"type": "text", "text": "ok", "nested": [[[["x"]]]]}]
    assert (
        protocol.transcript_item_to_wire(MessageItem("m2", "t", "user", fine), "S")["content"]
        == fine
    )


def test_a_command_update_carries_its_tail_and_how_it_ended() -> None:
    event = ev.ToolCallUpdated(
        "c2", "failed", [ev.TextContent("boom\nExit code 2")], [], ev.CommandOutput(2, None, True)
    )
    update = protocol.event_to_update("S", event)
    assert update is not None
    assert update["rawOutput"] == {"exitCode": 2, "truncated": True}
    assert update["content"] == [
        {"type": "content", "content": {"type": "text", "text": "boom\nExit code 2"}}
    ]
    killed = ev.ToolCallUpdated("c3", "failed", [], [], ev.CommandOutput(None, "SIGKILL", False))
    assert protocol.event_to_update("S", killed)["rawOutput"] == {  # type: ignore[index]
        "exitCode": None,
        "signal": "SIGKILL",
        "truncated": False,
    }


def test_a_permission_request_for_an_edit_under_review_carries_its_diff() -> None:
    call = ev.ToolCallStarted(
        "c4", "Edit a.py", "edit", {"path": "a.py"}, ["/w/a.py"],
        content=[ev.DiffContent("/w/a.py", "x = 1\n", "x = 2\n")],
    )  # fmt: skip
    params = protocol.permission_request("S", call)
    assert params["toolCall"]["content"] == [
        {"type": "diff", "path": "/w/a.py", "oldText": "x = 1\n", "newText": "x = 2\n"}
    ]
    plain_call = ev.ToolCallStarted("c5", "Read a.py", "read", {"path": "a.py"})
    assert "content" not in protocol.permission_request("S", plain_call)["toolCall"]


def test_retry_and_replace_params_are_checked() -> None:
    p = structure({"sessionId": "s1", "workDoneToken": 3}, protocol.RetryParams)
    assert (p.session_id, p.work_done_token) == ("s1", 3)
    with pytest.raises(ParamsError, match="sessionId: required"):
        structure({}, protocol.RetryParams)
    prompt = structure({"prompt": "again", "replaceEntryId": "e1"}, protocol.PromptParams)
    assert prompt.replace_entry_id == "e1"
    with pytest.raises(ParamsError, match="replaceEntryId: not an entry id"):
        structure({"prompt": "again", "replaceEntryId": "a b"}, protocol.PromptParams)
