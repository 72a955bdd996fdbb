"""Start the real server over stdio with pytest-lsp and talk to it with plain dicts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agent_ls.lsp.params import plain
from tests.fakes.anthropic_server import FakeAnthropic

REPO = Path(__file__).resolve().parents[2]


class Agent:
    """A connected client: requests return dicts, notifications are collected in order."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.updates: list[dict[str, Any]] = []
        self.list_changed = 0
        self.initialize_result: lsp.InitializeResult | None = None

    @property
    def messages(self) -> list[str]:
        """`window/showMessage` texts, as pytest-lsp's client records them."""
        return [m.message for m in self.client.messages]

    async def request(self, method: str, params: Any = None, timeout: float = 30) -> Any:
        result = await asyncio.wait_for(
            self.client.protocol.send_request_async(method, params), timeout
        )
        return plain(result)

    async def error(self, method: str, params: Any = None, timeout: float = 5) -> Any:
        """Send a request that must fail; return the JSON-RPC error (code, message)."""
        try:
            result = await self.request(method, params, timeout)
        except TimeoutError:
            raise AssertionError(f"{method} did not answer within {timeout}s") from None
        except Exception as exc:  # pygls raises JsonRpcException subclasses
            return exc
        raise AssertionError(f"{method} {params!r} succeeded with {result!r}")


def api_env(api: FakeAnthropic) -> dict[str, str]:
    """The environment that points a server at the fake API, with a key it must never leak."""
    return {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test-secret"}


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["AGENT_LS_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


@contextlib.asynccontextmanager
async def connect(
    workspaces: list[Path],
    home: Path,
    *,
    env: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    editor: str = "visual_studio_code",
    args: list[str] | None = None,
    shutdown: bool = True,
) -> AsyncIterator[Agent]:
    """A server process on `workspaces`, initialized as `editor` would.

    `args` are extra server arguments (`--log-file`); `shutdown=False` leaves without the
    shutdown handshake (for a server the test killed).
    """
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "agent_ls", *(args or [])],
        server_env=server_env(home, env),
    )
    client = await config.start()
    agent = Agent(client)

    @client.feature("agent/session/update")
    def on_update(params: Any) -> None:
        agent.updates.append(plain(params))

    @client.feature("agent/session/listChanged")
    def on_list_changed(_: Any) -> None:
        agent.list_changed += 1

    folders = [lsp.WorkspaceFolder(uri=p.as_uri(), name=p.name) for p in workspaces]
    agent.initialize_result = await asyncio.wait_for(
        client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities(editor),
                workspace_folders=folders,
                root_uri=folders[0].uri if folders else None,
                initialization_options=options,
            )
        ),
        60,
    )
    server = client._server  # type: ignore[attr-defined]
    try:
        yield agent
    finally:
        if shutdown and server.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_session(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 15)
        if server.returncode is None:
            server.kill()
