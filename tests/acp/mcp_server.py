"""A small MCP server for the ACP tests: `shout` answers its text louder, `fail` fails.

On stdio by default; `--http PORT` serves streamable HTTP at /mcp and `--sse PORT` serves SSE
at /sse, on 127.0.0.1.
"""

from __future__ import annotations

import sys

from mcp.server.fastmcp import FastMCP


def make(port: int = 8000) -> FastMCP:
    server = FastMCP("demo", host="127.0.0.1", port=port, log_level="WARNING")

    @server.tool()
    def shout(text: str) -> str:
        """Say the text louder."""
        return text.upper() + "!"

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, with the reason given."""
        raise ValueError(reason)

    return server


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--http", "--sse"):
        transport = "streamable-http" if sys.argv[1] == "--http" else "sse"
        make(int(sys.argv[2])).run(transport=transport)
    else:
        make().run()
