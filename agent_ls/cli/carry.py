"""`agent-ls sessions export` and `agent-ls sessions import`: sessions in and out of the store.

Export writes a readable transcript (Markdown, HTML), the raw JSONL or a portable bundle; text
goes to stdout without -o. Import takes a bundle, or another agent's sessions with --from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent_ls.carry.report import ImportReport
    from agent_ls.checkpoints.blobs import BlobStore
    from agent_ls.cli.sessions import Handler
    from agent_ls.sessions import SessionStore

EXIT_OK = 0


def add_parsers(command: Callable[[str, str, Handler], argparse.ArgumentParser]) -> None:
    """Add `export` and `import` through the `sessions` group's own `command` helper."""
    from agent_ls.carry import FORMATS, SOURCES

    export = command("export", "write a session as Markdown, HTML, JSONL or a bundle", _export)
    export.add_argument("session_id", metavar="ID")
    export.add_argument("--format", choices=FORMATS, default="markdown", help="default: markdown")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)"
    )
    export.add_argument(
        "--active-only", action="store_true", help="jsonl: only the active path, not every branch"
    )

    imp = command("import", "import a bundle, or another agent's sessions with --from", _import)
    imp.add_argument(
        "path",
        nargs="?",
        type=Path,
        metavar="BUNDLE|PATH",
        help="a bundle (.tar, or the same in a .zip), or with --from a session file or folder",
    )
    imp.add_argument("--from", dest="source", choices=SOURCES, help="import this agent's sessions")
    imp.add_argument(
        "--all", action="store_true", help="--from: every folder's sessions, not only this one's"
    )


def _blobs(store: SessionStore) -> BlobStore:
    from agent_ls.checkpoints.blobs import BlobStore
    from agent_ls.checkpoints.gc import BLOBS

    return BlobStore(store.dir / BLOBS)


def _export(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.carry.export import export_file, export_text
    from agent_ls.cli.sessions import _emit, resolve

    session_id = resolve(store, args.session_id)
    if args.output is None:
        text = export_text(store, _blobs(store), session_id, args.format, args.active_only)
        sys.stdout.write(text)
        return EXIT_OK
    out = args.output.expanduser().absolute()
    size = export_file(store, _blobs(store), session_id, args.format, out, args.active_only)
    if args.json:
        _emit({"path": str(out), "bytes": size})
    else:
        print(f"wrote {args.format} of {session_id} to {out} ({size} bytes)")
    return EXIT_OK


def _import(store: SessionStore, args: argparse.Namespace) -> int:
    from agent_ls.carry.agents import import_agent
    from agent_ls.carry.bundle import import_bundle
    from agent_ls.carry.errors import CarryError

    path = args.path.expanduser().absolute() if args.path is not None else None
    if args.source is not None:
        report = import_agent(store, args.source, path, args.all)
    elif path is None:
        raise CarryError("give a bundle to import, or --from claude-code|pi|codex")
    elif args.all:
        raise CarryError("--all goes with --from; a bundle holds one session")
    else:
        report = import_bundle(store, _blobs(store), path)
    _report(report, args.json)
    return EXIT_OK


def _report(report: ImportReport, as_json: bool) -> None:
    from agent_ls.cli.sessions import _emit, _title

    if as_json:
        _emit(
            {
                "imported": [info.to_json() for info in report.imported],
                "skipped": report.skipped,
                "problems": report.problems,
            }
        )
        return
    print(f"imported {len(report.imported)} session(s)", end="")
    print(f", skipped {report.skipped} already imported" if report.skipped else "")
    for info in report.imported:
        title = " ".join(_title(info).split())[:70]
        print(f"  {info.session_id}  {info.workspace}  {title}")
    for problem in report.problems:
        print(f"  note: {problem}")
