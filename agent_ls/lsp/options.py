"""Client options from `initializationOptions`: bad values fall back to defaults with a warning.

A failed `initialize` leaves the user with no agent at all, so nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Options:
    """Server-level options; the agent's own (model, provider, …) stay in `agent`."""

    session_dir: Path | None = None
    permission_ui: bool = False
    agent: dict[str, Any] = field(default_factory=dict)


def parse_options(raw: Any) -> tuple[Options, list[str]]:
    """Read what can be read, and name what could not."""
    options = Options()
    warnings: list[str] = []
    if raw is None:
        return options, warnings
    if not isinstance(raw, dict):
        return options, [f"initializationOptions must be an object, got {type(raw).__name__}"]
    session_dir = raw.get("sessionDir")
    if isinstance(session_dir, str) and session_dir:
        options.session_dir = Path(session_dir).expanduser()
    elif session_dir is not None:
        warnings.append("sessionDir must be a non-empty string; using the default store")
    permission_ui = raw.get("permissionUi", False)
    if isinstance(permission_ui, bool):
        options.permission_ui = permission_ui
    else:
        warnings.append("permissionUi must be true or false; assuming false")
    options.agent = {k: v for k, v in raw.items() if k not in ("sessionDir", "permissionUi")}
    return options, warnings
