"""A session's settings as ACP shows them: the model and the permission mode.

Both are config options (`session/set_config_option`); the permission mode is also offered as
session modes (`session/set_mode`) for clients that only know modes. Changing either applies to
the next turn of that session only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from acp.schema import (
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
)

from agent_ls.agent.config import DEFAULT_MODEL, Decision

MODEL = "model"
MODE = "mode"


@dataclass(frozen=True)
class PermissionMode:
    id: str
    name: str
    description: str
    overrides: Mapping[str, Decision]


PERMISSION_MODES = (
    PermissionMode("default", "Default", "Ask before commands, deletes and moves", {}),
    PermissionMode("ask", "Ask first", "Ask before every change, edits included", {"edit": "ask"}),
    PermissionMode(
        "allow",
        "Allow all",
        "Run every tool without asking",
        {k: "allow" for k in ("edit", "delete", "move", "execute", "fetch", "other")},
    ),
    PermissionMode(
        "read_only",
        "Read only",
        "Read and search only; changes and commands are refused",
        {k: "deny" for k in ("edit", "delete", "move", "execute", "fetch", "other")},
    ),
)
MODES = {mode.id: mode for mode in PERMISSION_MODES}


def models(current: str) -> list[str]:
    """The configured model, the default one, and any listed in $AGENT_LS_MODELS (comma
    separated): the API decides which exist, so no list is made up here."""
    listed = [m.strip() for m in os.environ.get("AGENT_LS_MODELS", "").split(",") if m.strip()]
    return list(dict.fromkeys([current, DEFAULT_MODEL, *listed]))


def policy(base: Mapping[str, Decision], mode: str) -> dict[str, Decision]:
    """The permission policy of `mode` on top of the configured one."""
    return {**base, **MODES[mode].overrides}


def config_options(model: str, mode: str, base_model: str) -> list[SessionConfigOptionSelect]:
    return [
        SessionConfigOptionSelect(
            type="select",
            id=MODEL,
            name="Model",
            category="model",
            current_value=model,
            options=[SessionConfigSelectOption(value=m, name=m) for m in models(base_model)],
        ),
        SessionConfigOptionSelect(
            type="select",
            id=MODE,
            name="Permissions",
            category="mode",
            current_value=mode,
            options=[
                SessionConfigSelectOption(value=m.id, name=m.name, description=m.description)
                for m in PERMISSION_MODES
            ],
        ),
    ]


def mode_state(mode: str) -> SessionModeState:
    return SessionModeState(
        current_mode_id=mode,
        available_modes=[
            SessionMode(id=m.id, name=m.name, description=m.description) for m in PERMISSION_MODES
        ],
    )
