"""The ACP agent: `agent-ls acp`'s handlers, driving the same core as the language server.

Each open session has its own `AgentService` on its cwd (plus its additional directories) and
its own editor port, so sessions run turns in parallel with their own model and permission mode.
Sessions are the store's: one created over LSP is listed, loaded and continued here, and the
reverse, with the store's locks keeping two processes from writing one session at once.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from acp import RequestError
from acp.agent.connection import AgentSideConnection
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    AuthEnvVar,
    AvailableCommandsUpdate,
    ClientCapabilities,
    CloseSessionResponse,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    DeleteSessionResponse,
    EnvVarAuthMethod,
    ForkSessionResponse,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    ResumeSessionResponse,
    SessionCapabilities,
    SessionCloseCapabilities,
    SessionDeleteCapabilities,
    SessionForkCapabilities,
    SessionInfo,
    SessionInfoUpdate,
    SessionListCapabilities,
    SessionResumeCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    Usage,
)

from agent_ls import __version__
from agent_ls.acp import commands, extensions, settings, updates
from agent_ls.acp.editor import AcpEditor
from agent_ls.acp.errors import invalid_params, mapped, not_loaded
from agent_ls.acp.mcp_servers import McpServers
from agent_ls.acp.prompt import user_blocks
from agent_ls.acp.rpc import after_response
from agent_ls.agent.config import AgentConfig, load_config
from agent_ls.agent.permissions import Permissions
from agent_ls.core.branch_point import TurnRequestError
from agent_ls.core.service import AgentService
from agent_ls.core.transcript import transcript_items
from agent_ls.sessions.store import SessionInfo as StoredInfo
from agent_ls.sessions.store import SessionStore, list_all_workspaces

log = logging.getLogger(__name__)
PROTOCOL_VERSION = 1
LIST_PAGE = 100
TITLE_CHARS = 80
API_KEY_METHOD = "anthropic-api-key"


@dataclass
class OpenSession:
    """A session this connection has open: its core, its editor port, its settings."""

    session_id: str
    cwd: Path
    service: AgentService
    editor: AcpEditor
    model: str
    mode: str = "default"

    @property
    def store(self) -> SessionStore:
        return self.service.sessions.locate(self.session_id).store

    async def close(self) -> None:
        """Stop its MCP servers; release the stores its core opened (their index connections)."""
        if self.editor.mcp is not None:
            await self.editor.mcp.close()
        for folder in self.service.sessions.folders:
            folder.store.close()

    def apply_model(self, base: AgentConfig) -> None:
        """The session's model, from its next turn."""
        config = replace(base, model=self.model)
        self.service.config = self.service.prompting.config = config

    def apply_mode(self, base: AgentConfig) -> None:
        """The session's permission mode, from its next tool call ("always" answers given under
        the previous mode are forgotten)."""
        permissions = Permissions(settings.policy(base.permissions, self.mode))
        self.service.prompting.permissions[self.session_id] = permissions


def title_of(info: StoredInfo) -> str | None:
    title = info.name or " ".join(info.first_message.split())
    return title[:TITLE_CHARS] or None


def absolute(raw: str, what: str) -> Path:
    """ACP paths are absolute; a relative one would resolve against our cwd, not the client's."""
    if not raw or "\x00" in raw or not os.path.isabs(raw):
        raise invalid_params(f"{what} must be an absolute path, got {raw!r}")
    return Path(os.path.realpath(raw))


class AcpAgent:
    """Implements `acp.Agent` on the core."""

    def __init__(self, config: AgentConfig | None = None) -> None:
        self.config = config or load_config()[0]
        self.conn: AgentSideConnection | None = None
        self.client: ClientCapabilities | None = None
        self.sessions: dict[str, OpenSession] = {}
        self._stores: dict[Path, SessionStore] = {}

    def on_connect(self, conn: AgentSideConnection) -> None:
        self.conn = conn

    # -- connection ----------------------------------------------------------------------------

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.client = client_capabilities
        if self.config.provider == "anthropic":
            after_response(_import_sdk)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True, image=True),
                mcp_capabilities=McpCapabilities(http=True, sse=True),
                session_capabilities=SessionCapabilities(
                    list=SessionListCapabilities(),
                    delete=SessionDeleteCapabilities(),
                    fork=SessionForkCapabilities(),
                    resume=SessionResumeCapabilities(),
                    close=SessionCloseCapabilities(),
                ),
                field_meta={extensions.PREFIX: extensions.capabilities()},
            ),
            agent_info=Implementation(name="agent-ls", title="agent-ls", version=__version__),
            auth_methods=[] if self._has_key() else [self._key_method()],
        )

    def _has_key(self) -> bool:
        return self.config.provider != "anthropic" or bool(self.config.api_key)

    def _key_method(self) -> EnvVarAuthMethod:
        return EnvVarAuthMethod(
            type="env_var",
            id=API_KEY_METHOD,
            name="Anthropic API key",
            description="agent-ls calls the Anthropic API with the key in ANTHROPIC_API_KEY; "
            "set it in the environment the client starts agent-ls with.",
            vars=[AuthEnvVar(name="ANTHROPIC_API_KEY", label="Anthropic API key")],
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        if method_id != API_KEY_METHOD:
            raise invalid_params(f"unknown authentication method {method_id!r}")
        self.config = load_config()[0]
        self._require_key()
        return AuthenticateResponse()

    def _require_key(self) -> None:
        if not self._has_key():
            raise RequestError.auth_required(
                {
                    "message": "ANTHROPIC_API_KEY is not set: set it in the environment the "
                    "editor starts `agent-ls acp` with, then restart the agent."
                }
            )

    # -- sessions ------------------------------------------------------------------------------

    def _store(self, cwd: Path) -> SessionStore:
        if cwd not in self._stores:
            self._stores[cwd] = SessionStore(cwd)
        return self._stores[cwd]

    async def _open(
        self, session_id: str, cwd: Path, more: list[str] | None, mcp_servers: list[Any] | None
    ) -> OpenSession:
        """Open `session_id` (stored under `cwd`) on this connection.

        A session already open here is reused (its running turn, model and mode stay); opened
        on other folders, it is reopened on these once it is idle.
        """
        assert self.conn is not None
        folders = [cwd, *(absolute(d, "additionalDirectories[]") for d in more or [])]
        for folder in folders:
            if not folder.is_dir():
                raise invalid_params(f"{folder} is not a folder: pass an existing directory")
        previous = self.sessions.get(session_id)
        if previous is not None:
            if previous.service.sessions.roots == folders:
                after_response(lambda: self._announce(previous))
                return previous
            previous.service.turns.ensure_idle(session_id)
            await previous.close()
        editor = AcpEditor(self.conn, session_id, self.client, self.config.context_window)
        service = AgentService(folders, editor, config=self.config)
        editor.roots = service.sessions.roots
        service.sessions.locate(session_id)  # raises SessionNotFound for another cwd's session
        if mcp_servers:
            editor.mcp = McpServers(mcp_servers, cwd)
        session = OpenSession(
            session_id,
            cwd,
            service,
            editor,
            previous.model if previous else self.config.model,
            previous.mode if previous else "default",
        )
        session.apply_model(self.config)
        session.apply_mode(self.config)
        self.sessions[session_id] = session
        after_response(lambda: self._announce(session))
        return session

    async def _announce(self, session: OpenSession) -> None:
        """What a client shows beside the transcript: commands and the session's title."""
        session.editor.send(
            AvailableCommandsUpdate(
                session_update="available_commands_update",
                available_commands=commands.available(),
            )
        )
        self._send_info(session)
        await session.editor.outbox.flush()

    def _send_info(self, session: OpenSession) -> None:
        info = session.store.info(session.session_id)
        session.editor.send(
            SessionInfoUpdate(
                session_update="session_info_update",
                title=title_of(info),
                updated_at=info.modified_at,
            )
        )

    def _settings(self, session: OpenSession) -> dict[str, Any]:
        return {
            "modes": settings.mode_state(session.mode),
            "config_options": settings.config_options(
                session.model, session.mode, self.config.model
            ),
        }

    def session(self, session_id: str) -> OpenSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise not_loaded(session_id)
        return session

    @mapped
    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        self._require_key()
        folder = absolute(cwd, "cwd")
        if not folder.is_dir():
            raise invalid_params(f"cwd: {folder} is not a folder: pass an existing directory")
        info = self._store(folder).create()
        session = await self._open(info.session_id, folder, additional_directories, mcp_servers)
        return NewSessionResponse(session_id=info.session_id, **self._settings(session))

    @mapped
    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[Any] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse:
        folder = absolute(cwd, "cwd")
        session = await self._open(session_id, folder, additional_directories, mcp_servers)
        for update in await asyncio.to_thread(self._replay, session):
            session.editor.send(update)
        await session.editor.outbox.flush()
        return LoadSessionResponse(**self._settings(session))

    def _replay(self, session: OpenSession) -> list[updates.Update]:
        """The session's whole active path as updates: a worker thread builds them (a long
        session is thousands of entries, titled and shaped one by one)."""
        path = session.store.load(session.session_id).path()
        return list(updates.replay(transcript_items(path, session.service.sessions.roots)))

    @mapped
    async def resume_session(
        self,
        session_id: str,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> ResumeSessionResponse:
        folder = absolute(cwd, "cwd")
        session = await self._open(session_id, folder, additional_directories, mcp_servers)
        return ResumeSessionResponse(**self._settings(session))

    @mapped
    async def fork_session(
        self,
        session_id: str,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> ForkSessionResponse:
        """Fork at the session's leaf, or at the entry `_meta.entryId` names."""
        entry_id = kwargs.get("entryId")
        if entry_id is not None and not isinstance(entry_id, str):
            raise invalid_params("_meta.entryId must be an entry id (a string)")
        folder = absolute(cwd, "cwd")
        info = self._store(folder).fork(session_id, entry_id)
        session = await self._open(info.session_id, folder, additional_directories, mcp_servers)
        return ForkSessionResponse(session_id=info.session_id, **self._settings(session))

    @mapped
    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        """Newest first, a page at a time (`nextCursor` names the next page)."""
        if cwd is None:
            infos, next_cursor = list_all_workspaces(None, cursor=cursor, limit=LIST_PAGE)
        else:
            infos, next_cursor = self._store(absolute(cwd, "cwd")).list(cursor, LIST_PAGE)
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=info.session_id,
                    cwd=info.workspace,
                    title=title_of(info),
                    updated_at=info.modified_at,
                )
                for info in infos
            ],
            next_cursor=next_cursor,
        )

    @mapped
    async def close_session(self, session_id: str, **kwargs: Any) -> CloseSessionResponse:
        """Stop the session's turn (it ends as cancelled, keeping what it did) and forget it."""
        session = self.session(session_id)
        task = session.service.turns.tasks.get(session_id)
        if session.service.prompting.cancel(session_id) and task is not None:
            await task
        await session.editor.outbox.flush()
        del self.sessions[session_id]
        await session.close()
        return CloseSessionResponse()

    @mapped
    async def delete_session(self, session_id: str, **kwargs: Any) -> DeleteSessionResponse:
        """Move the session to the store's trash (`agent-ls sessions restore` brings it back).
        Deleting a session that is not there succeeds: the client's wish holds."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.service.sessions.delete(session_id)  # refused while its turn runs
            del self.sessions[session_id]
            await session.close()
            return DeleteSessionResponse()
        store = self._find_store(session_id)
        if store is not None:
            store.delete(session_id)
        return DeleteSessionResponse()

    def _find_store(self, session_id: str) -> SessionStore | None:
        """The store that holds `session_id`, looked up across every workspace."""
        cursor: str | None = None
        while True:
            infos, cursor = list_all_workspaces(None, cursor=cursor, limit=1000)
            for info in infos:
                if info.session_id == session_id:
                    return self._store(Path(info.workspace))
            if cursor is None:
                return None

    # -- settings ------------------------------------------------------------------------------

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        session = self.session(session_id)
        if config_id == settings.MODEL and isinstance(value, str) and value.strip():
            session.model = value.strip()
            session.apply_model(self.config)
        elif config_id == settings.MODE and value in settings.MODES:
            session.mode = str(value)
            session.apply_mode(self.config)
            self._mode_changed(session)
        else:
            allowed = ", ".join(settings.MODES)
            raise invalid_params(
                f"{config_id}={value!r} is not a setting: use model=<model name> or "
                f"mode=<{allowed}>"
            )
        options = self._settings(session)["config_options"]
        return SetSessionConfigOptionResponse(config_options=options)

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse:
        session = self.session(session_id)
        if mode_id not in settings.MODES:
            raise invalid_params(f"mode {mode_id!r} is not one of: {', '.join(settings.MODES)}")
        session.mode = mode_id
        session.apply_mode(self.config)
        self._mode_changed(session)
        session.editor.send(
            ConfigOptionUpdate(
                session_update="config_option_update",
                config_options=self._settings(session)["config_options"],
            )
        )
        await session.editor.outbox.flush()
        return SetSessionModeResponse()

    def _mode_changed(self, session: OpenSession) -> None:
        session.editor.send(
            CurrentModeUpdate(session_update="current_mode_update", current_mode_id=session.mode)
        )

    # -- turns ---------------------------------------------------------------------------------

    @mapped
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        """A turn for the model (a prompt, or `/retry`), or a command answered as a message."""
        session = self.session(session_id)
        command = commands.parse(prompt)
        if command is not None and not command.turn:
            return await self._reply(session, await commands.run(self, session, command))
        if command is not None and command.args:
            return await self._reply(session, f"Usage: /{command.name} (it takes no arguments)")
        self._require_key()
        blocks = None if command is not None else user_blocks(prompt)
        if session.editor.mcp is not None:
            for problem in await session.editor.mcp.ready():
                session.editor.send(updates.agent_text(f"{problem}\n\n", None))
        prompting = session.service.prompting
        try:
            if blocks is None:
                outcome = await prompting.retry(session_id)
            else:
                outcome = await prompting.prompt(session_id, blocks)
        except TurnRequestError as exc:
            return await self._reply(session, str(exc))
        finally:
            session.editor.end_turn()
        self._send_info(session)
        await session.editor.outbox.flush()
        result = outcome.result
        if result.stop_reason == "error":
            raise RequestError.internal_error(
                {"message": result.error or "the turn failed", "kind": "turn_failed"}
            )
        return PromptResponse(stop_reason=result.stop_reason, usage=_usage(result.usage))

    async def _reply(self, session: OpenSession, text: str) -> PromptResponse:
        """Answer with an agent message that never reaches the model."""
        session.editor.send(updates.agent_text(text, None))
        await session.editor.outbox.flush()
        return PromptResponse(stop_reason="end_turn")

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        """Cancel the turn; its `session/prompt` answers `stopReason: "cancelled"`."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.service.prompting.cancel(session_id)

    # -- extensions ----------------------------------------------------------------------------

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return await extensions.handle(self, method, params)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        log.info("ignoring extension notification _%s", method)


async def _import_sdk() -> None:
    """Import the Anthropic SDK (seconds) in a thread while the client sets up its session, so
    the first prompt does not wait for it."""
    await asyncio.to_thread(importlib.import_module, "anthropic")


def _usage(usage: dict[str, int]) -> Usage:
    cached_read = usage.get("cache_read_input_tokens")
    cached_write = usage.get("cache_creation_input_tokens")
    prompt = usage.get("input_tokens", 0) + (cached_read or 0) + (cached_write or 0)
    return Usage(
        total_tokens=prompt + usage.get("output_tokens", 0),
        input_tokens=prompt,
        output_tokens=usage.get("output_tokens", 0),
        cached_read_tokens=cached_read,
        cached_write_tokens=cached_write,
    )
