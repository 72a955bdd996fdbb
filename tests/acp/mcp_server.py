"""A small stdio MCP server for the ACP tests: `shout` answers its text louder, `fail` fails."""

from __future__ import annotations

from mcp.server.fastmcp import FastMCP

server = FastMCP("demo")


@server.tool()
def shout(text: str) -> str:
    """Say the text louder."""
    return text.upper() + "!"


@server.tool()
def fail(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ValueError(reason)


if __name__ == "__main__":
    server.run()
