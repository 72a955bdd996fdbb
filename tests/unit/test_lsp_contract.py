"""The wire contract cannot drift: docs/protocol.md's tables and the VS Code client's
protocol.ts are checked against agent_ls/lsp/protocol.py (in the spirit of `cog --check`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent_ls.agent import events as ev
from agent_ls.checkpoints.diffs import FileDiff
from agent_ls.checkpoints.listing import CheckpointSummary, FileSummary
from agent_ls.checkpoints.restore import FileResult
from agent_ls.core.checkpoints import RestoreReport
from agent_ls.core.transcript import CheckpointItem, CompactionItem, MessageItem, TurnEndItem
from agent_ls.lsp import protocol
from agent_ls.lsp.options import OPTIONS

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "protocol.md").read_text()
TS = (REPO / "vscode-extension" / "src" / "protocol.ts").read_text()

SUMMARY = CheckpointSummary(
    "e9", "e1", "turn", "2026-11-30T00:00:00.000Z", "e1", "p", True,
    [FileSummary("/w/a.py", "modified", True, False)],
)  # fmt: skip
CALL = ev.ToolCallStarted("c1", "Read a.py", "read", {"path": "a.py"}, ["/w/a.py"])


def section(title: str) -> str:
    """The text of a `## title` section of the doc."""
    start = DOC.index(f"## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def first_column(text: str) -> list[str]:
    """The first cell of each row of the markdown tables in `text`, without backticks."""
    cells = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells.append(line.split("|")[1].strip().strip("`"))
    return cells[1:] if cells else cells  # the header row


def ts_const(name: str) -> str:
    match = re.search(rf"export const {name} = (\{{.*?\}}|\[.*?\]) as const;", TS, re.S)
    assert match, name
    return match.group(1)


def ts_fields(interface: str) -> set[str]:
    match = re.search(rf"export interface {interface} \{{(.*?)\n\}}", TS, re.S)
    assert match, interface
    return set(re.findall(r"^  (\w+)\??:", match.group(1), re.M))


REQUESTS = [m for m in protocol.PARAMS if m != protocol.SESSION_CANCEL]


def test_the_requests_table_lists_exactly_the_methods() -> None:
    assert first_column(section("Requests (client → server)")) == REQUESTS


def test_the_options_table_lists_exactly_the_options() -> None:
    table = section("initialize").split("`initializationOptions`", 1)[1]
    assert sorted(first_column(table)) == sorted(OPTIONS)


def test_the_updates_table_lists_exactly_the_update_kinds() -> None:
    notifications = section("Notifications")
    assert first_column(notifications) == list(protocol.UPDATE_KINDS)


def test_the_errors_table_gives_every_code_and_kind() -> None:
    rows = [
        [cell.strip().strip("`") for cell in line.split("|")[1:3]]
        for line in section("Errors").splitlines()
        if line.startswith("| -")
    ]
    documented = {kind: int(code) for code, kind in rows if kind != "(none)"}
    assert documented == protocol.ERRORS
    assert "-32004" not in DOC and "-32005" not in DOC  # the old, never-sent codes are gone


def test_protocol_ts_has_the_methods_codes_kinds_and_updates() -> None:
    methods = set(re.findall(r"'(agent/[\w/]+)'", ts_const("Method")))
    server = {*protocol.PARAMS, protocol.SESSION_UPDATE, protocol.SESSION_LIST_CHANGED}
    assert methods == server | {protocol.REQUEST_PERMISSION}
    codes = {int(c) for c in re.findall(r":\s*(-\d+)", ts_const("ErrorCode"))}
    assert set(protocol.ERRORS.values()) <= codes <= {*protocol.ERRORS.values(), -32800}
    kinds = set(re.findall(r"'(\w+)'", ts_const("ErrorKind")))
    assert kinds == set(protocol.ERRORS)
    assert set(protocol.UPDATE_KINDS) <= set(re.findall(r"'(\w+)'", ts_const("UPDATE_KINDS")))


def keys(shapes: list[dict[str, Any]]) -> set[str]:
    return {k for shape in shapes for k in shape}


def test_protocol_ts_types_have_every_field_the_server_sends() -> None:
    checkpoint = protocol.checkpoint_to_wire("S", SUMMARY)
    assert set(checkpoint) <= ts_fields("Checkpoint")
    assert keys(checkpoint["files"]) <= ts_fields("CheckpointFile")
    items = [
        protocol.transcript_item_to_wire(i, "S")
        for i in (
            MessageItem("e1", "t", "assistant", [], "m", {"input_tokens": 1}, "end_turn", [CALL]),
            CheckpointItem("e9", "t", SUMMARY),
            CompactionItem("e3", "t", "summary"),
            TurnEndItem("e4", "t", "error", "Overloaded."),
        )
    ]
    assert keys(items) <= ts_fields("TranscriptItem")
    assert set(items[0]["toolCalls"][0]) <= ts_fields("ToolCallTitle")
    assert set(protocol.tool_call_to_wire(CALL)) <= ts_fields("ToolCallFields")
    diff = protocol.diff_to_wire([FileDiff("/w/a.py", "file:///w/a.py", "modified", True)])
    assert keys(diff["files"]) <= ts_fields("DiffFile")
    restore = protocol.restore_to_wire(
        RestoreReport("S", True, [FileResult("/w/a.py", "modified", "restored")], "u1")
    )
    assert set(restore) <= ts_fields("RestoreResult")
    assert set(protocol.permission_request("S", CALL)) <= ts_fields("RequestPermissionParams")
    options = re.findall(r"^  (\w+)\??:", TS.split("interface InitializationOptions", 1)[1], re.M)
    assert set(options[: options.index("permissionPolicy") + 2]) <= set(OPTIONS)
