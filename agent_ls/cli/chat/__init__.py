"""`agent-ls chat`: a terminal client that drives the real server over stdio LSP.

prompt_toolkit reads the input (keyboard.py), rich draws the turns (render.py), and app.py
speaks the wire protocol of docs/protocol.md to a `python -m agent_ls` child.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-ls chat", description=__doc__)
    parser.add_argument("--workspace", default=".", help="folder to work in (default: .)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="ID", help="continue this session")
    which.add_argument("--new", action="store_true", help="start a new session")
    parser.add_argument(
        "--review", action="store_true", help="show each edit's diff and ask before writing it"
    )
    return parser


async def _main(args: argparse.Namespace) -> int:
    from agent_ls.cli.chat.app import NO_KEY, Chat

    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        print(f"agent-ls chat: {workspace} is not a folder", file=sys.stderr)
        return 2
    chat = Chat(workspace)
    chat.review = args.review
    from agent_ls.agent import secrets

    needs_key = not secrets.held("ANTHROPIC_API_KEY") and not os.environ.get("AGENT_LS_SCRIPT")
    if needs_key:
        chat.say(NO_KEY, "yellow")
    try:
        await chat.start(args.session, args.new)
        chat.say("/help for commands, Ctrl-C cancels a reply, Ctrl-D quits", "dim")
        await chat.run()
    finally:
        await chat.stop()
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 130
