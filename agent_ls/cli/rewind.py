"""`agent-ls sessions rewind ID ENTRY`: back to just before a user message, files and all.

Like `sessions restore`, it reads the store and writes files directly (no server needed), and
is all or nothing unless --partial or --force.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs, not when `sessions list` does
    from agent_ls.sessions import SessionStore


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `rewind` to the `sessions` subcommands."""
    from agent_ls.cli.checkpoints import ALL_OR_NOTHING, revert_options

    rewind = subparsers.add_parser(
        "rewind",
        help="rewind a session to just before one of its user messages",
        description=(
            "Move the conversation back to just before the user message ENTRY (the later turns "
            "stay in the session as a branch) and revert every file the later turns changed. "
            + ALL_OR_NOTHING
            + " One undo checkpoint is recorded: `sessions restore` of it (with --scope both) "
            "undoes the rewind. Exit status: 0 done, 1 error, 3 some files were left alone."
        ),
    )
    rewind.add_argument("session_id", metavar="ID")
    rewind.add_argument("entry_id", metavar="ENTRY", help="the user message's entry id")
    rewind.add_argument("--scope", default="both", help="both (default), files or conversation")
    revert_options(rewind)
    rewind.set_defaults(checkpoints_command="rewind")


def run_rewind(store: SessionStore, args: argparse.Namespace) -> int:
    """Plan the rewind under the session's writer, then apply it (or only report it)."""
    import asyncio

    from agent_ls.checkpoints import BlobStore, DirectApplier, apply
    from agent_ls.checkpoints.gc import BLOBS
    from agent_ls.checkpoints.history import SessionView
    from agent_ls.checkpoints.restore import SCOPES, RestorePlan, plan_rewind
    from agent_ls.cli.checkpoints import report
    from agent_ls.cli.sessions import resolve

    if args.scope not in SCOPES:
        raise ValueError(f"--scope must be one of {', '.join(SCOPES)}")
    session_id = resolve(store, args.session_id)
    blobs = BlobStore(store.dir / BLOBS)
    roots = [args.workspace]

    def planned_on(session: SessionView) -> RestorePlan:
        return plan_rewind(
            session,
            args.entry_id,
            blobs=blobs,
            roots=roots,
            scope=args.scope,
            force=args.force,
            partial=args.partial,
        )

    if args.dry_run:
        return report(planned_on(store.load(session_id)), None, args.json)
    with store.writer(session_id) as writer:
        planned = planned_on(writer.session)
        label = f"Rewind to before {args.entry_id}"
        result = asyncio.run(apply(planned, DirectApplier(roots), blobs, writer, label))
    return report(planned, result, args.json)
