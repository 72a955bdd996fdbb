"""`agent-ls sessions …`: read and edit the session store directly, for scripting.

Every subcommand takes `--workspace DIR` (default: the current directory) and `--json`. A
session is named by its id, a unique start of it, or its exact name. Failures are one sentence
(JSON with --json), never a traceback. Only what a subcommand needs is imported, so
`sessions list` starts fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:
    from agent_ls.sessions import SessionInfo, SessionStore

Handler = Callable[["SessionStore", argparse.Namespace], int]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130

EPILOG = """sessions are named by id, a unique start of an id, or an exact name.

exit status:
  0    done
  1    failed: a sentence on stderr, or {"error": {"kind", "message"}} on stdout with --json
       (kinds: not_found, ambiguous, invalid_id, busy, exists, needs_confirmation, index, os,
       store)
  2    the command line is wrong (usage)
  3    restore left some files alone (a conflict or a failure)
  130  interrupted (Ctrl-C)"""


class Parser(argparse.ArgumentParser):
    """Usage errors as a sentence, or as JSON when the command line asks for --json."""

    wants_json = False  # set by main for this parser and its subcommands' parsers

    def error(self, message: str) -> NoReturn:
        if Parser.wants_json:
            print(json.dumps({"error": {"kind": "usage", "message": message}}))
            raise SystemExit(EXIT_USAGE)
        super().error(message)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", type=Path, default=None, metavar="DIR", help="default: the current directory"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the session commands, then the checkpoint commands, to a group."""

    def command(name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(
            name, help=help, description=help, epilog=EPILOG, formatter_class=_Raw
        )
        parser.set_defaults(sessions_handler=handler)
        _common(parser)
        return parser

    listing = command("list", "sessions of the workspace, newest first", _list)
    size = listing.add_mutually_exclusive_group()
    size.add_argument("--limit", type=_positive, default=50, metavar="N", help="default: 50")
    size.add_argument("--all", action="store_true", help="every session")
    listing.add_argument("--query", help="only sessions whose name or first message contains it")

    command("show", "a session's details, its messages and tool calls", _show).add_argument(
        "session_id", metavar="ID"
    )

    rename = command("rename", "name a session", _rename)
    rename.add_argument("session_id", metavar="ID")
    rename.add_argument("name", metavar="NAME")

    command("delete", "move a session to the trash", _delete).add_argument(
        "session_id", metavar="ID"
    )
    command("undelete", "bring a session back from the trash", _undelete).add_argument(
        "session_id", metavar="ID"
    )
    command("purge", "list the trash, ask, then empty it for good", _purge).add_argument(
        "--yes", action="store_true", help="do not ask"
    )

    fork = command("fork", "a new session holding the path up to an entry", _fork)
    fork.add_argument("session_id", metavar="ID")
    fork.add_argument("--at", metavar="ENTRY", help="entry id (default: the current leaf)")

    from agent_ls.cli import carry as cli_carry

    cli_carry.add_parsers(command)

    from agent_ls.cli import sessions_find

    sessions_find.add_parsers(command, _positive)

    from agent_ls.cli import checkpoints as cli_checkpoints

    cli_checkpoints.add_parsers(subparsers)


class _Raw(argparse.RawDescriptionHelpFormatter):
    """Keep the epilog's layout."""


class _Unused:
    """The parser of a subcommand this run does not name: argparse needs only the name and
    help that `add_parser` keeps, so its arguments are not built (building every subcommand's
    parser was a tenth of what `sessions list` takes). Every call is accepted and ignored."""

    def __getattr__(self, name: str) -> Callable[..., _Unused]:
        return lambda *args, **kwargs: self


def _subcommand_parser(chosen: str | None, **kwargs: Any) -> argparse.ArgumentParser:
    """A real parser for the subcommand the command line names (the first word that is not an
    option, which is the one argparse will parse with), `_Unused` for the others."""
    if kwargs["prog"].rsplit(" ", 1)[-1] == chosen:
        return Parser(**kwargs)
    return cast(argparse.ArgumentParser, _Unused())


def run(args: argparse.Namespace) -> int:
    """Run a parsed `sessions` subcommand; returns the exit status."""
    from agent_ls.cli.errors import fail

    if getattr(args, "checkpoints_command", None):
        from agent_ls.cli import checkpoints as cli_checkpoints

        return cli_checkpoints.run(args)
    import sqlite3

    from agent_ls.sessions import SessionStore, StoreError

    try:
        store = SessionStore((args.workspace or Path.cwd()).resolve())
    except (StoreError, OSError, sqlite3.Error) as exc:
        return fail(exc, as_json=args.json)
    try:
        return int(args.sessions_handler(store, args))
    except (StoreError, OSError, sqlite3.Error) as exc:
        return fail(exc, as_json=args.json)
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `agent-ls sessions ARGS`: no traceback on any path."""
    argv = list(sys.argv[1:] if argv is None else argv)
    Parser.wants_json = "--json" in argv
    parser = Parser(
        prog="agent-ls sessions",
        description="Inspect and edit the agent's session store.",
        epilog=EPILOG,
        formatter_class=_Raw,
    )
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    add_commands(
        parser.add_subparsers(
            dest="sessions_command",
            required=True,
            metavar="COMMAND",
            parser_class=functools.partial(_subcommand_parser, chosen),
        )
    )
    args = parser.parse_args(argv)
    try:
        status = run(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:  # `| head` stopped reading: not an error worth a word
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug must still read as a sentence, never a traceback
        from agent_ls.cli.errors import fail

        return fail(exc, as_json=args.json)


# -- naming a session --------------------------------------------------------------------------


def resolve(store: SessionStore, text: str, trashed: bool = False) -> str:
    """The id of the session ``text`` names: an id, a unique start of one, or an exact name."""
    from agent_ls.cli.errors import Ambiguous
    from agent_ls.sessions import InvalidSessionId, SessionNotFound

    if not trashed:
        try:
            return store.info(text).session_id  # a whole id: its own error if it is unreadable
        except (SessionNotFound, InvalidSessionId):
            pass
    infos = store.trashed() if trashed else store.list(limit=None)[0]
    for info in infos:
        if info.session_id == text:
            return info.session_id
    named = [i for i in infos if i.name == text]
    found = named or [i for i in infos if text and i.session_id.startswith(text)]
    if len(found) == 1:
        return found[0].session_id
    if found:
        what = "name" if named else "start of an id"
        ids = ", ".join(i.session_id for i in found[:5]) + (" …" if len(found) > 5 else "")
        raise Ambiguous(
            f"{text!r} is the {what} of {len(found)} sessions ({ids}); give more of the id"
        )
    where = " in the trash" if trashed else ""
    raise SessionNotFound(f"{text}{where}")


# -- subcommands -------------------------------------------------------------------------------


def _pretty() -> bool:
    """Indented JSON for a person; one line for a pipe, where json's C encoder is 10x faster."""
    return sys.stdout.isatty()


def _emit(data: Any) -> None:
    """Print ``data`` as JSON, as ``_pretty`` says."""
    if _pretty():
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _title(info: SessionInfo) -> str:
    return info.name or info.first_message or "(empty)"


def _table(infos: Sequence[SessionInfo]) -> None:
    width = max(len(s.session_id) for s in infos)
    print(f"{'ID':<{width}}  {'MODIFIED':<24}  {'MSGS':>5}  TITLE")
    for s in infos:
        title = " ".join(_title(s).split())[:80]
        print(f"{s.session_id:<{width}}  {s.modified_at:<24}  {s.message_count:>5}  {title}")


def _list(store: SessionStore, args: argparse.Namespace) -> int:
    limit = None if args.all else args.limit
    if args.json:  # the index keeps each session's JSON: joined, not encoded again
        encoded, cursor = store.list_json(limit=limit, query=args.query)
        parts = (b'{"sessions":[', encoded, b'],"more":', b"false" if cursor is None else b"true")
        if _pretty():
            print(json.dumps(json.loads(b"".join(parts) + b"}"), indent=2, ensure_ascii=False))
        else:
            sys.stdout.flush()
            sys.stdout.buffer.writelines([*parts, b"}\n"])  # 5 MB for 10,000: not copied again
        return EXIT_OK
    sessions, cursor = store.list(limit=limit, query=args.query)
    if not sessions:
        print(f"no sessions for {store.workspace}")
        return EXIT_OK
    _table(sessions)
    if cursor is not None:
        print(f"… more sessions: use --limit N or --all (showing {len(sessions)})")
    return EXIT_OK


def _show(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.cli.transcript import describe

    session_id = resolve(store, args.session_id)
    info = store.info(session_id)
    session = store.load(session_id)
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
        return EXIT_OK
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
    for entry in path:
        print()
        print(describe(entry))
    return EXIT_OK


def _rename(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.rename(resolve(store, args.session_id), args.name)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"renamed {info.session_id} to {info.name!r}")
    return EXIT_OK


def _delete(store: SessionStore, args: argparse.Namespace) -> int:
    session_id = resolve(store, args.session_id)
    store.delete(session_id)
    if args.json:
        _emit({"deleted": session_id})
    else:
        print(f"moved {session_id} to the trash (agent-ls sessions undelete {session_id} undoes)")
    return EXIT_OK


def _undelete(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.restore(resolve(store, args.session_id, trashed=True))
    if args.json:
        _emit(info.to_json())
    else:
        print(f"brought {info.session_id} back from the trash")
    return EXIT_OK


def _purge(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.checkpoints.gc import collect
    from agent_ls.cli.errors import NeedsConfirmation

    trash = store.trashed()
    if not trash:
        if args.json:
            _emit({"purged": 0, "freedBytes": 0, "blobsRemoved": 0})
        else:
            print("the trash is empty")
        return EXIT_OK
    if not args.yes:
        if args.json or not sys.stdin.isatty():
            raise NeedsConfirmation(
                f"purge would delete {len(trash)} session(s) for good; pass --yes to confirm"
            )
        print("These sessions in the trash will be deleted for good:")
        _table(trash)
        try:
            answer = input(f"Delete {len(trash)} session(s) for good? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_OK
    count = store.purge()
    freed = collect(store.dir)  # checkpoint blobs only the purged sessions referenced
    if args.json:
        _emit({"purged": count, "freedBytes": freed.freed_bytes, "blobsRemoved": freed.removed})
    else:
        print(f"purged {count} session(s), freed {freed.freed_bytes} bytes of checkpoints")
    return EXIT_OK


def _fork(store: SessionStore, args: argparse.Namespace) -> int:
    source = resolve(store, args.session_id)
    info = store.fork(source, args.at)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"forked {source} into {info.session_id}")
    return EXIT_OK
