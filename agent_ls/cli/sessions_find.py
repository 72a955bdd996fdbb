"""`agent-ls sessions search|new|reset|tag|trash|gc|stats`: finding sessions, naming them,
and keeping the store's size in check (docs/storage.md, "Retention of sessions")."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_ls.sessions import SessionStore
    from agent_ls.sessions.retention import Plan
    from agent_ls.sessions.search import SearchHit

Handler = Callable[["SessionStore", argparse.Namespace], int]
Command = Callable[[str, str, Handler], argparse.ArgumentParser]
BOLD, PLAIN = "\x1b[1m", "\x1b[0m"


def add_parsers(command: Command, positive: Callable[[str], int]) -> None:
    """Add the subcommands through the `sessions` group's ``command`` factory."""
    search = command("search", "full-text search of the sessions, best match first", _search)
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--all-workspaces", action="store_true", help="every workspace's sessions")
    search.add_argument("--limit", type=positive, default=20, metavar="N", help="default: 20")

    new = command("new", "create a session", _new)
    new.add_argument("--id", dest="session_id", metavar="ID", help="default: a new ULID")
    new.add_argument("--name", metavar="NAME")

    command(
        "reset", "continue the session on a new branch from its root (the old one stays)", _reset
    ).add_argument("session_id", metavar="ID")

    tag = command("tag", "add tags to a session (or remove them)", _tag)
    tag.add_argument("session_id", metavar="ID")
    tag.add_argument("tags", metavar="TAG", nargs="+")
    tag.add_argument("--remove", action="store_true", help="remove these tags instead")

    command("trash", "the sessions in the trash, most recently deleted first", _trash)

    gc = command("gc", "apply the workspace's retention policy (settings.json)", _gc)
    gc.add_argument("--dry-run", action="store_true", help="only say what it would do")

    command("stats", "the size of every workspace's store", _stats)

    index = command("index", "bring the full-text search index up to date now", _index)
    index.add_argument(
        "--low-priority", action="store_true", help="run at a lower CPU priority (nice 10)"
    )


def _emit(data: Any) -> None:
    from agent_ls.cli.sessions import _emit as emit

    emit(data)


def _marked(hit: SearchHit, color: bool) -> str:
    """The snippet with its matches shown: bold on a terminal, [brackets] in a pipe."""
    units = hit.snippet.encode("utf-16-le")
    out, pos = [], 0
    opening, closing = (BOLD, PLAIN) if color else ("[", "]")
    for start, end in hit.highlights:
        out.append(units[pos * 2 : start * 2].decode("utf-16-le"))
        out.append(opening + units[start * 2 : end * 2].decode("utf-16-le") + closing)
        pos = end
    out.append(units[pos * 2 :].decode("utf-16-le"))
    return "".join(out)


def _search(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.sessions.search import all_stores, search

    stores = all_stores(store.root) if args.all_workspaces else [store]
    try:
        hits, cursor = search(stores, args.query, args.limit)
    finally:
        for other in stores:
            if other is not store:
                other.close()
    if args.json:
        from agent_ls.lsp.protocol import search_to_wire

        _emit(search_to_wire(hits, cursor))
        return 0
    if not hits:
        print(f"nothing matches {args.query!r}")
        return 0
    color = sys.stdout.isatty()
    for hit in hits:
        title = hit.session_name or ""
        print(f"{hit.session_id}  {hit.entry_id}  {hit.ts}  {hit.role:<9}  {title}")
        print(f"    {_marked(hit, color)}")
    if cursor is not None:
        print(f"… more matches: use --limit N (showing {len(hits)})")
    return 0


def _new(store: SessionStore, args: argparse.Namespace) -> int:
    info = store.create(name=args.name, session_id=args.session_id)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"created {info.session_id}")
    return 0


def _reset(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.cli.sessions import resolve

    session_id = resolve(store, args.session_id)
    store.reset(session_id)
    if args.json:
        _emit(store.info(session_id).to_json())
    else:
        print(f"{session_id} continues on a new branch; the old one stays in the file")
    return 0


def _tag(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.cli.sessions import resolve
    from agent_ls.sessions import StoreError

    session_id = resolve(store, args.session_id)
    for tag in args.tags:
        if not tag.strip() or tag != tag.strip() or len(tag) > 64 or not tag.isprintable():
            raise StoreError(f"{tag!r} is not a tag: 1 to 64 printable characters, no outer spaces")
    current = set(store.info(session_id).tags)
    tags = current - set(args.tags) if args.remove else current | set(args.tags)
    info = store.set_metadata(session_id, sorted(tags), None)
    if args.json:
        _emit(info.to_json())
    else:
        print(f"{info.session_id}: {', '.join(info.tags) or '(no tags)'}")
    return 0


def _trash(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.sessions import retention

    found = store.trash()
    retention.record_listed(store, found)
    if args.json:
        _emit({"sessions": [{**i.to_json(), "deletedAt": at} for i, at in found]})
        return 0
    if not found:
        print("the trash is empty")
        return 0
    width = max(len(i.session_id) for i, _ in found)
    print(f"{'ID':<{width}}  {'DELETED':<24}  TITLE")
    for info, deleted_at in found:
        title = " ".join((info.name or info.first_message or "(empty)").split())[:80]
        print(f"{info.session_id:<{width}}  {deleted_at:<24}  {title}")
    return 0


def _plan_json(plan: Plan, dry_run: bool) -> dict[str, Any]:
    return {
        "dryRun": dry_run,
        "storeBytes": plan.store_bytes,
        "trashed": [i.session_id for i in plan.to_trash],
        "purged": [i.session_id for i, _ in plan.to_purge],
        "purgeNextRun": [i.session_id for i, _ in plan.announced],
        "skipped": plan.skipped,
        "freedBytes": plan.freed_bytes,
    }


def _gc(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.sessions import retention

    policy = retention.policy_for(store)
    if not policy.active:
        message = (
            f"retention is off for {store.workspace}: set trashAfterDays, purgeTrashAfterDays"
            f" or maxStoreBytes in {store.dir / retention.SETTINGS} to turn it on"
        )
        if args.json:
            _emit({**_plan_json(retention.Plan(0), args.dry_run), "message": message})
        else:
            print(message)
        return 0
    plan = retention.run(store, policy, dry_run=args.dry_run)
    if args.json:
        _emit(_plan_json(plan, args.dry_run))
        return 0
    would = "would " if args.dry_run else ""
    for info in plan.to_trash:
        print(f"{would}move to the trash: {info.session_id} (modified {info.modified_at})")
    for info, at in plan.to_purge:
        print(f"{would}delete for good: {info.session_id} (deleted {at})")
    for info, at in plan.announced:
        print(f"to be deleted for good by the next gc: {info.session_id} (deleted {at})")
    for line in plan.skipped:
        print(f"left alone: {line}")
    if not (plan.to_trash or plan.to_purge or plan.announced):
        print("nothing to do")
    elif not args.dry_run:
        print(f"freed {plan.freed_bytes} bytes")
    return 0


def _index(store: SessionStore, args: argparse.Namespace) -> int:
    """What the language server runs in a child process at start-up (its own interpreter lock:
    reading a big store in a thread of the server stalled its event loop)."""
    if args.low_priority:
        os.nice(10)
    files = store.index_text()
    if args.json:
        _emit({"filesRead": files})
    else:
        print(f"search index up to date ({files} session files read)")
    return 0


def _stats(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.sessions import retention

    found = retention.stats(store.root)
    if args.json:
        from agent_ls.lsp.params import camel

        _emit({"workspaces": [{camel(k): v for k, v in vars(s).items()} for s in found]})
        return 0
    if not found:
        print(f"no sessions under {store.root}")
        return 0
    print(f"{'TOTAL':>12}  {'SESSIONS':>8}  {'BYTES':>12}  {'TRASH':>5}  {'BYTES':>12}  WORKSPACE")
    for s in found:
        print(
            f"{s.total_bytes:>12}  {s.sessions:>8}  {s.session_bytes:>12}  {s.trashed:>5}"
            f"  {s.trash_bytes:>12}  {s.workspace or s.directory}"
        )
    return 0
