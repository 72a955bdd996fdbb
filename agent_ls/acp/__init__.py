"""`agent-ls acp`: the Agent Client Protocol front door (Zed, JetBrains, CodeCompanion, …).

An ACP agent on stdio (newline-delimited JSON-RPC) driving the same core as the language
server; docs/acp.md lists what it supports and how to add it to each editor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-ls acp",
        description="Serve the Agent Client Protocol on stdio (for Zed, JetBrains, "
        "CodeCompanion, avante, agent-shell, Toad and other ACP clients).",
    )
    parser.add_argument("--log-file", metavar="PATH", help="log here instead of stderr")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


async def _serve() -> None:
    from acp.stdio import stdio_streams

    from agent_ls.acp.agent import AcpAgent
    from agent_ls.acp.rpc import LINE_LIMIT, StdioTransport, agent_connection, serve

    reader, writer = await stdio_streams(limit=LINE_LIMIT)
    await serve(agent_connection(AcpAgent(), StdioTransport(reader, writer)))


def main(argv: Sequence[str] | None = None) -> int:
    from agent_ls.cli import configure_logging

    options = _parser().parse_args(argv)
    configure_logging(options.log_file, options.log_level)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        asyncio.run(_serve())
    return 0
