"""Command line: the stdio language server (default), `chat`, and `sessions …` for scripting.

Subcommands are imported only when named, so starting the server loads nothing it does not use.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from agent_ls import __version__

SUBCOMMANDS = {
    "acp": "agent_ls.acp",
    "chat": "agent_ls.cli.chat",
    "sessions": "agent_ls.cli.sessions",
}

EPILOG = """commands:
  acp        serve the Agent Client Protocol on stdio, for Zed, JetBrains and other ACP
             clients (agent-ls acp --help)
  chat       a terminal chat with the agent on a folder (agent-ls chat --help)
  sessions   list, show, rename, delete, purge, fork sessions; checkpoints and restore
             (agent-ls sessions --help)
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
    handler: logging.Handler = (
        logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # pygls logs every message body at INFO: noise, and it may hold file contents.
    logging.getLogger("pygls").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[args[0]])
        return int(module.main(args[1:]))
    options = _server_parser().parse_args(args)
    configure_logging(options.log_file, options.log_level)
    from agent_ls.lsp.server import create_server, serve_stdio

    server = create_server()
    if options.tcp is not None:
        server.start_tcp("127.0.0.1", options.tcp)
    else:
        serve_stdio(server)
    return 0
