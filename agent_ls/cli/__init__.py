"""Command line: the stdio language server (default), `chat`, and `sessions …` for scripting.

Subcommands are imported only when named, so starting the server loads nothing it does not use.
"""

from __future__ import annotations

import argparse
import importlib
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from agent_ls import __version__
from agent_ls.agent import secrets

SUBCOMMANDS = {
    "acp": "agent_ls.acp",
    "chat": "agent_ls.cli.chat",
    "sessions": "agent_ls.cli.sessions",
}

EPILOG = """commands:
  acp        serve the Agent Client Protocol on stdio, for Zed, JetBrains and other ACP
             clients (agent-ls acp --help)
  chat       a terminal chat with the agent on a folder (agent-ls chat --help)
  sessions   list, show, rename, delete, purge, fork, export and import sessions;
             checkpoints and restore (agent-ls sessions --help)
"""


def _server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-ls",
        description="A language server that puts a Claude coding agent in any LSP editor.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agent-ls {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve LSP on stdio (the default)")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="serve LSP on 127.0.0.1:PORT")
    parser.add_argument("--log-file", metavar="PATH", help="log here instead of stderr")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def configure_logging(log_file: str | None, level: str) -> None:
    """Logs never go to stdout: on stdio it is the JSON-RPC channel."""
    import logging  # not at the top: `agent-ls sessions …` starts faster without it

    handler: logging.Handler = logging.StreamHandler(
        private_log(Path(log_file)) if log_file else sys.stderr
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # pygls logs every message body at INFO: noise, and it may hold file contents.
    logging.getLogger("pygls").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def private_log(path: Path) -> TextIO:
    """The log, readable by its owner only: at DEBUG it holds prompts and file contents.

    Missing folders are made 0700; an existing log that others could read is made 0600.
    """
    missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # the server and the chat run agents: they restart without the key in their environment
    secrets.hide(reexec=argv is None and args[:1] != ["sessions"])
    if args and args[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[args[0]])
        return int(module.main(args[1:]))
    options = _server_parser().parse_args(args)
    try:
        configure_logging(options.log_file, options.log_level)
    except OSError as exc:
        print(
            f"agent-ls: cannot write the log file {options.log_file}: {exc.strerror}; "
            "pass a --log-file in a folder you can write to",
            file=sys.stderr,
        )
        return 2
    from agent_ls.lsp.server import create_server, serve_stdio

    server = create_server()
    if options.tcp is not None:
        server.start_tcp("127.0.0.1", options.tcp)
    else:
        serve_stdio(server)
    return 0
