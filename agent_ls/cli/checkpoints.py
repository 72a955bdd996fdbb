"""`agent-ls sessions checkpoints ID`, `agent-ls sessions restore CHECKPOINT` (and, from
`cli/rewind.py`, `agent-ls sessions rewind ID ENTRY`).

They read the store directly and write files directly (no editor), so they work with no server
running; a session a server is writing to is busy, and restoring it fails with a message.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a checkpoint command runs, not when `sessions list` does
    from agent_ls.checkpoints import CheckpointSummary, RestorePlan, RestoreResult
    from agent_ls.sessions import SessionStore

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PARTIAL = 3


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `checkpoints` and `restore` to the `sessions` subcommands."""
    listing = subparsers.add_parser(
        "checkpoints",
        help="list a session's checkpoints (one per turn that changed files)",
        description="List a session's checkpoints, oldest first, with the files each changed.",
    )
    listing.add_argument("session_id", metavar="ID")
    _common(listing)
    listing.set_defaults(checkpoints_command="checkpoints")

    restore = subparsers.add_parser(
        "restore",
        help="revert a checkpoint's turn and every later one",
        description=(
            "Revert the turn of CHECKPOINT and every later turn, latest first. "
            + ALL_OR_NOTHING
            + " The restore first records an undo checkpoint: restoring that one puts the files "
            "back. Exit status: 0 done, 1 error, 3 some files were left alone (conflict or "
            "failure)."
        ),
    )
    restore.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint id or SESSION:ID")
    restore.add_argument("--scope", default="files", help="files (default), conversation or both")
    revert_options(restore)
    restore.set_defaults(checkpoints_command="restore")

    from agent_ls.cli import rewind

    rewind.add_parser(subparsers)


ALL_OR_NOTHING = (
    "Files the user changed since are merged when those edits do not overlap the agent's; "
    "any other change is a conflict, and then nothing is written unless --partial (restore "
    "the others) or --force (overwrite them too)."
)


def revert_options(parser: argparse.ArgumentParser) -> None:
    """The options restore and rewind share."""
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--force", action="store_true", help="overwrite conflicting files too")
    choice.add_argument(
        "--partial", action="store_true", help="restore the others, leave conflicting files"
    )
    _common(parser)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", type=Path, default=None, metavar="DIR", help="default: the current directory"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Run the subcommand `add_parsers` set up; returns the exit status."""
    import sqlite3

    from agent_ls.checkpoints import CheckpointError
    from agent_ls.cli.errors import fail
    from agent_ls.sessions import SessionStore, StoreError

    args.workspace = (args.workspace or Path.cwd()).resolve()
    try:
        store = SessionStore(args.workspace)
    except (StoreError, OSError) as exc:
        return fail(exc, "agent-ls", EXIT_ERROR, as_json=args.json)
    try:
        if args.checkpoints_command == "checkpoints":
            return _list(store, args)
        if args.checkpoints_command == "rewind":
            from agent_ls.cli.rewind import run_rewind

            return run_rewind(store, args)
        return _restore(store, args)
    except (CheckpointError, StoreError, OSError, sqlite3.Error, ValueError) as exc:
        return fail(exc, "agent-ls", EXIT_ERROR, as_json=args.json)
    finally:
        store.close()


def _list(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.checkpoints import list_checkpoints
    from agent_ls.cli.sessions import resolve

    summaries = list_checkpoints(store.checkpoint_view(resolve(store, args.session_id)))
    if args.json:
        print(json.dumps([_summary_json(s) for s in summaries], indent=2))
        return EXIT_OK
    if not summaries:
        print("no checkpoints")
    for s in summaries:
        flags = "" if s.active else "  (off the active branch)"
        title = s.prompt.splitlines()[0][:60] if s.prompt else f"[{s.kind}] {s.turn_id}"
        print(f"{s.checkpoint_id}  {s.created_at}  {len(s.files)} file(s)  {title}{flags}")
        for f in s.files:
            notes = ("  conflict" if f.conflict else "") + (
                "" if f.restorable else "  not restorable"
            )
            print(f"    {f.operation:<8} {f.path}{notes}")
    return EXIT_OK


def _summary_json(summary: CheckpointSummary) -> dict[str, Any]:
    """This command's JSON: the summary's fields in camelCase, paths (not URIs), entry ids."""
    from dataclasses import asdict  # not at the top: `sessions list` imports this module

    return {
        "checkpointId": summary.checkpoint_id,
        "turnId": summary.turn_id,
        "kind": summary.kind,
        "createdAt": summary.created_at,
        "userEntryId": summary.user_entry_id,
        "prompt": summary.prompt,
        "active": summary.active,
        "files": [asdict(f) for f in summary.files],
    }


def _restore(store: SessionStore, args: argparse.Namespace) -> int:
    import asyncio

    from agent_ls.checkpoints import BlobStore, DirectApplier, apply, plan
    from agent_ls.checkpoints.gc import BLOBS
    from agent_ls.checkpoints.history import SessionView, find_checkpoint
    from agent_ls.checkpoints.restore import SCOPES

    if args.scope not in SCOPES:
        raise ValueError(f"--scope must be one of {', '.join(SCOPES)}")
    session_id, _, _ = args.checkpoint.rpartition(":")
    if session_id:
        pool: list[SessionView] = [store.load(session_id)]
    else:
        infos, _ = store.list(limit=None)
        pool = [store.load(info.session_id) for info in infos]
    owner, _ = find_checkpoint(pool, args.checkpoint)
    blobs = BlobStore(store.dir / BLOBS)
    roots = [args.workspace]
    options: dict[str, Any] = {
        "blobs": blobs,
        "roots": roots,
        "scope": args.scope,
        "force": args.force,
        "partial": args.partial,
    }
    if args.dry_run:
        planned = plan(owner, args.checkpoint, **options)
        return report(planned, None, args.json)
    with store.writer(owner.session_id) as writer:
        planned = plan(writer.session, args.checkpoint, **options)
        label = f"Restore checkpoint {planned.checkpoint_id}"
        result = asyncio.run(apply(planned, DirectApplier(roots), blobs, writer, label))
    return report(planned, result, args.json)


def report(planned: RestorePlan, result: RestoreResult | None, as_json: bool) -> int:
    """Print what a restore or rewind did (`result`) or would do (None: a dry run)."""
    from dataclasses import asdict

    files = (
        [asdict(f) for f in result.files]
        if result is not None
        else [
            {"path": f.path, "operation": f.operation, "result": f.result, "reason": f.reason}
            for f in planned.files
        ]
    )
    partial = any(f["result"] in ("conflict", "failed", "skipped") for f in files)
    if as_json:
        out: dict[str, Any] = {
            "applied": result is not None and result.applied,
            "dryRun": result is None,
            "reverted": planned.reverted,
            "files": [{k: v for k, v in f.items() if v is not None} for f in files],
        }
        if result is not None and result.undo_checkpoint_id:
            out["undoCheckpointId"] = result.undo_checkpoint_id
        if planned.moves_conversation:
            out["leafId"] = planned.leaf_target
        print(json.dumps(out, indent=2))
        return EXIT_PARTIAL if partial else EXIT_OK
    refused = result is not None and planned.refused
    done = result is not None and not refused
    verb = "reverted" if done else "would revert"
    which = ", ".join(planned.reverted) or "none"
    print(f"{verb} checkpoint(s) {which} of session {planned.session_id}")
    for f in files:
        reason = f" ({f['reason']})" if f["reason"] else ""
        print(f"  {f['result']:<9} {f['operation']:<8} {f['path']}{reason}")
    if planned.moves_conversation:
        where = planned.leaf_target or "the start"
        print(f"conversation {'moved' if done else 'would move'} back to {where}")
    if refused:
        print(
            "nothing was changed: files conflict with later edits; run again with --partial "
            "to restore the others, or --force to overwrite them too"
        )
    if result is not None and result.undo_checkpoint_id:
        print(
            f"undo with: agent-ls sessions restore {planned.session_id}:{result.undo_checkpoint_id}"
        )
    return EXIT_PARTIAL if partial else EXIT_OK
