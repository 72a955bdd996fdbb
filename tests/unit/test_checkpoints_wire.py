"""The wire of rewind, revertHunks, restore's new fields and diff hunks (lsp/protocol.py)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_ls.checkpoints.diffs import FileDiff
from agent_ls.checkpoints.errors import NotARewindPoint, NotInCheckpoint
from agent_ls.checkpoints.hunks import Hunk
from agent_ls.checkpoints.restore import FileResult
from agent_ls.core.checkpoints import RestoreReport
from agent_ls.lsp import protocol
from agent_ls.lsp.params import ParamsError, structure
from agent_ls.lsp.server import domain_error


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        (protocol.SESSION_REWIND, {"sessionId": "s"}, "entryId: required field is missing"),
        (protocol.SESSION_REWIND, {"sessionId": "s", "entryId": "a/b"}, "entryId: not an entry"),
        (
            protocol.SESSION_REWIND,
            {"sessionId": "s", "entryId": "e", "scope": "all"},
            "scope: must be one of",
        ),
        (
            protocol.CHECKPOINT_RESTORE,
            {"checkpointId": "s:e", "files": []},
            "files: name at least one file uri",
        ),
        (
            protocol.CHECKPOINT_RESTORE,
            {"checkpointId": "s:e", "files": [3]},
            "files[0]: expected a string",
        ),
        (
            protocol.CHECKPOINT_REVERT_HUNKS,
            {"checkpointId": "s:e", "uri": "file:///a", "hunks": []},
            "hunks: name at least one hunk index",
        ),
        (
            protocol.CHECKPOINT_REVERT_HUNKS,
            {"checkpointId": "s:e", "uri": "file:///a", "hunks": [-1]},
            "hunks: hunk indexes start at 0",
        ),
        (protocol.CHECKPOINT_REVERT_HUNKS, {"checkpointId": "s:e", "hunks": [0]}, "uri: required"),
    ],
)
def test_bad_params_answer_with_the_field(method: str, params: Any, message: str) -> None:
    with pytest.raises(ParamsError, match=message.replace("[", r"\[")):
        structure(params, protocol.PARAMS[method])


def test_rewind_defaults_to_both_scopes() -> None:
    p = structure({"sessionId": "s", "entryId": "e"}, protocol.RewindParams)
    assert (p.scope, p.dry_run, p.force, p.partial, p.files) == ("both", False, False, False, None)


def test_rewind_and_hunk_errors_are_invalid_params() -> None:
    for exc in (NotARewindPoint("s", "e", "is not an entry"), NotInCheckpoint("hunks: 9")):
        error = domain_error(exc)
        assert error.code == -32602 and error.data["kind"] == "invalid_params"
    assert "entryId: e is not an entry in session s" in str(
        NotARewindPoint("s", "e", "is not an entry")
    )


def test_results_carry_leaf_entry_id_only_when_the_conversation_moved() -> None:
    files = [FileResult("/w/a.py", "modified", "merged", "your later edits were kept")]
    moved = protocol.restore_to_wire(RestoreReport("S", True, files, "u1", None, True))
    assert moved["leafEntryId"] is None and moved["undoCheckpointId"] == "S:u1"
    assert moved["files"][0]["result"] == "merged"
    stayed = protocol.restore_to_wire(RestoreReport("S", False, files))
    assert "leafEntryId" not in stayed and "undoCheckpointId" not in stayed


def test_diff_files_list_their_hunks() -> None:
    diff = FileDiff("/w/a.py", "file:///w/a.py", "modified", True, hunks=[Hunk(0, 1, 5, 1, 6)])
    [wire] = protocol.diff_to_wire([diff])["files"]
    assert wire["hunks"] == [
        {"index": 0, "oldStart": 1, "oldLines": 5, "newStart": 1, "newLines": 6,
         "header": "@@ -1,5 +1,6 @@"}
    ]  # fmt: skip
