"""`agent-ls sessions …`: read and edit the session store directly, for scripting.

Every subcommand takes `--workspace DIR` (default: the current directory) and `--json`.
Failures print one line on stderr and exit with status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent_ls.checkpoints.gc import collect
from agent_ls.cli import checkpoints as cli_checkpoints
from agent_ls.cli.errors import fail
from agent_ls.sessions import SessionInfo, SessionStore, StoreError
from agent_ls.sessions.format import message_text

Handler = Callable[[SessionStore, argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", type=Path, default=None, metavar="DIR", help="default: the current directory"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add list/show/rename/delete/purge/fork, then the checkpoint commands, to a group."""
    listing = subparsers.add_parser("list", help="sessions of the workspace, newest first")
    size = listing.add_mutually_exclusive_group()
    size.add_argument("--limit", type=_positive, default=50, metavar="N", help="default: 50")
    size.add_argument("--all", action="store_true", help="every session")
    listing.add_argument("--query", help="only sessions whose name or first message contains it")
    listing.set_defaults(sessions_handler=_list)

    show = subparsers.add_parser("show", help="a session's details and its active path")
    show.add_argument("session_id", metavar="ID")
    show.set_defaults(sessions_handler=_show)

    rename = subparsers.add_parser("rename", help="name a session")
    rename.add_argument("session_id", metavar="ID")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(sessions_handler=_rename)

    delete = subparsers.add_parser("delete", help="move a session to the trash")
    delete.add_argument("session_id", metavar="ID")
    delete.set_defaults(sessions_handler=_delete)

    purge = subparsers.add_parser("purge", help="empty the trash for good")
    purge.set_defaults(sessions_handler=_purge)

    fork = subparsers.add_parser("fork", help="a new session holding the path up to an entry")
    fork.add_argument("session_id", metavar="ID")
    fork.add_argument("--at", metavar="ENTRY", help="entry id (default: the current leaf)")
    fork.set_defaults(sessions_handler=_fork)

    for parser in (listing, show, rename, delete, purge, fork):
        _common(parser)
    cli_checkpoints.add_parsers(subparsers)


def run(args: argparse.Namespace) -> int:
    """Run a parsed `sessions` subcommand; returns the exit status."""
    if getattr(args, "checkpoints_command", None):
        return cli_checkpoints.run(args)
    try:
        store = SessionStore((args.workspace or Path.cwd()).resolve())
    except (StoreError, OSError) as exc:
        return fail(exc)
    try:
        return int(args.sessions_handler(store, args))
    except (StoreError, OSError, sqlite3.Error) as exc:
        return fail(exc)
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `agent-ls sessions ARGS`."""
    parser = argparse.ArgumentParser(
        prog="agent-ls sessions", description="Inspect and edit the agent's session store."
    )
    add_commands(parser.add_subparsers(dest="sessions_command", required=True, metavar="COMMAND"))
    return run(parser.parse_args(argv))


# -- subcommands -------------------------------------------------------------------------------


def _emit(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _title(info: SessionInfo) -> str:
    return info.name or info.first_message or "(empty)"


def _list(store: SessionStore, args: argparse.Namespace) -> int:
    sessions, cursor = store.list(limit=None if args.all else args.limit, query=args.query)
    if args.json:
        _emit({"sessions": [s.to_json() for s in sessions], "more": cursor is not None})
        return 0
    if not sessions:
        print(f"no sessions for {store.workspace}")
        return 0
    width = max(len(s.session_id) for s in sessions)
    print(f"{'ID':<{width}}  {'MODIFIED':<24}  {'MSGS':>5}  TITLE")
    for s in sessions:
        title = " ".join(_title(s).split())[:80]
        print(f"{s.session_id:<{width}}  {s.modified_at:<24}  {s.message_count:>5}  {title}")
    if cursor is not None:
        print(f"… more sessions: use --limit N or --all (showing {len(sessions)})")
    return 0


def _describe(entry: dict[str, Any]) -> str:
    kind = entry.get("type")
    if kind == "message":
        text = " ".join(message_text(entry).split()) or "(no text)"
        return f"{entry.get('role')}: {text}"
    if kind == "session_info":
        return f"renamed: {entry.get('name')}"
    if kind == "checkpoint":
        return f"checkpoint: {len(entry.get('files') or [])} file(s)"
    if kind == "compaction":
        return f"compaction: {' '.join(str(entry.get('summary', '')).split())}"
    return str(kind)


def _show(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.info(args.session_id)
    session = store.load(args.session_id)
    path = session.path()
    if args.json:
        _emit(
            {
                "session": info.to_json(),
                "header": session.header,
                "leafId": session.leaf_id,
                "path": path,
            }
        )
        return 0
    print(f"session   {info.session_id}")
    if info.name:
        print(f"name      {info.name}")
    print(f"workspace {info.workspace}")
    print(f"created   {info.created_at}")
    print(f"modified  {info.modified_at}")
    print(f"messages  {info.message_count}")
    if info.parent_session_id:
        print(f"forked    from {info.parent_session_id} at {session.header.get('parentEntry')}")
    print(f"file      {info.path}")
    print()
    for entry in path:
        print(f"[{entry['id']}] {_describe(entry)[:200]}")
    return 0


def _rename(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.rename(args.session_id, args.name)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"renamed {info.session_id} to {info.name!r}")
    return 0


def _delete(store: SessionStore, args: argparse.Namespace) -> int:
    store.delete(args.session_id)
    if args.json:
        _emit({"deleted": args.session_id})
    else:
        print(f"moved {args.session_id} to the trash (agent-ls sessions purge empties it)")
    return 0


def _purge(store: SessionStore, args: argparse.Namespace) -> int:
    count = store.purge()
    freed = collect(store.dir)  # checkpoint blobs only the purged sessions referenced
    if args.json:
        _emit({"purged": count, "freedBytes": freed.freed_bytes, "blobsRemoved": freed.removed})
    else:
        print(f"purged {count} session(s), freed {freed.freed_bytes} bytes of checkpoints")
    return 0


def _fork(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.fork(args.session_id, args.at)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"forked {args.session_id} into {info.session_id}")
    return 0
