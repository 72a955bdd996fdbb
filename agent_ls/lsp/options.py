"""`initializationOptions`, read once into one typed object; a bad value falls back to its
default with a warning the server shows.

A failed `initialize` leaves the user with no agent at all, so nothing here raises. Each option
has one name, the one docs/protocol.md lists (a test checks the table against `OPTIONS`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_ls.agent.config import AGENT_OPTIONS, AgentConfig, OptionReader, read_config
from agent_ls.sessions.retention import read_policy

WATCH_INTERVAL = 1.0
SERVER_OPTIONS = (
    "client",
    "sessionDir",
    "permissionUi",
    "watchInterval",
    "trashAfterDays",
    "purgeTrashAfterDays",
    "maxStoreBytes",
)
OPTIONS = (*AGENT_OPTIONS, *SERVER_OPTIONS)
"""Every option the server reads."""


@dataclass(frozen=True)
class Options:
    """What the client asked for, with defaults for what it did not say."""

    session_dir: Path | None = None
    permission_ui: bool = False
    watch_interval: float = WATCH_INTERVAL
    client: str | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    retention: dict[str, Any] = field(default_factory=dict)  # camelCase keys, as given


def parse_options(raw: Any, env: Mapping[str, str] | None = None) -> tuple[Options, list[str]]:
    """Read what can be read, and name what could not (unknown names included)."""
    environ = os.environ if env is None else env
    warnings: list[str] = []
    if raw is not None and not isinstance(raw, Mapping):
        warnings.append(f"initializationOptions must be an object, got {type(raw).__name__}")
    reader = OptionReader(raw if isinstance(raw, Mapping) else {}, warnings)
    for key in reader.options:
        if key not in OPTIONS and key not in ("apiKey", "api_key"):
            warnings.append(f"initializationOptions.{key} is not an option; it is ignored")
    session_dir = reader.text("sessionDir", None)
    return Options(
        session_dir=None if session_dir is None else Path(session_dir).expanduser(),
        permission_ui=reader.boolean("permissionUi", False),
        watch_interval=reader.number("watchInterval", WATCH_INTERVAL, 0.05, 3600),
        client=reader.text("client", None),
        agent=read_config(reader, environ),
        retention=read_policy(reader.options, warnings, "initializationOptions"),
    ), warnings
