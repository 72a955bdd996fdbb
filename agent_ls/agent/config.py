"""Agent settings from the client's initializationOptions and the environment.

Bad options never stop the server: each is replaced by its default and reported as a warning the
server can show. The API key comes from the environment only, so it is never written into a
session file or echoed back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent_ls.agent import secrets

Decision = Literal["ask", "allow", "deny"]
ProviderName = Literal["anthropic", "scripted"]

DEFAULT_MODEL = "claude-sonnet-4-6"
PROVIDERS: tuple[ProviderName, ...] = ("anthropic", "scripted")
DECISIONS: tuple[Decision, ...] = ("ask", "allow", "deny")
DEFAULT_PERMISSIONS: Mapping[str, Decision] = {
    "read": "allow",
    "search": "allow",
    "edit": "allow",
    "delete": "ask",
    "move": "ask",
    "execute": "ask",
    "fetch": "ask",
    "think": "allow",
    "other": "ask",
}

_SYSTEM_PROMPT = """\
You are a coding agent working inside the user's editor, on the workspace folder(s):
{roots}
Relative paths resolve against {first_root}.

Use the tools to look before you change anything: list_files and grep to find code, read_file to \
read it (it shows the editor's unsaved text), edit_file for targeted changes (exact string \
replacement) and write_file for new files or full rewrites, run_command to build, test or inspect \
(it runs in the workspace folder; the user may be asked to approve it). Every change you make is \
checkpointed and can be reverted by the user.

Work in small verified steps: make the change, then check it (run the tests or the build when \
there are any). Keep to what was asked; follow the code's existing style. If a tool fails, read \
the error and adjust rather than repeating the same call. When you are done, say briefly what you \
changed and anything the user should check. Be concise; use Markdown for code."""


@dataclass(frozen=True)
class AgentConfig:
    """Everything a turn needs to know besides the session and the workspace."""

    provider: ProviderName = "anthropic"
    model: str = DEFAULT_MODEL
    max_tokens: int = 8192
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    max_retries: int = 2
    context_window: int = 200_000
    compaction_threshold: float = 0.8
    system_prompt: str | None = None
    permissions: Mapping[str, Decision] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))
    command_timeout: float = 120.0
    thinking_budget: int | None = None
    script: str | None = None
    max_iterations: int = 50

    def system_text(self, roots: Sequence[Path]) -> str:
        """The system prompt for these workspace roots (a custom one is used as given)."""
        if self.system_prompt:
            return self.system_prompt
        shown = [str(root) for root in roots] or ["(no folder open)"]
        return _SYSTEM_PROMPT.format(
            roots="\n".join(f"- {root}" for root in shown), first_root=shown[0]
        )


AGENT_OPTIONS = (
    "provider",
    "model",
    "maxTokens",
    "baseUrl",
    "maxRetries",
    "contextWindow",
    "compactionThreshold",
    "systemPrompt",
    "permissionPolicy",
    "commandTimeout",
    "thinkingBudget",
    "script",
)
"""The initializationOptions the agent reads (camelCase, as clients send them)."""


def load_config(
    options: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> tuple[AgentConfig, list[str]]:
    """Build the config: initializationOptions first, then env, then defaults; never raises."""
    warnings: list[str] = []
    if options is not None and not isinstance(options, Mapping):
        warnings.append("initializationOptions must be an object; using defaults")
    reader = OptionReader(options if isinstance(options, Mapping) else {}, warnings)
    return read_config(reader, os.environ if env is None else env), warnings


def read_config(reader: OptionReader, environ: Mapping[str, str]) -> AgentConfig:
    """The agent's options through `reader` (whose warnings collect every bad value)."""
    opts = reader.options
    if "apiKey" in opts or "api_key" in opts:
        reader.warnings.append(
            "apiKey in initializationOptions is ignored: set ANTHROPIC_API_KEY in the environment"
        )
    defaults = AgentConfig()
    provider = reader.choice(
        "provider", PROVIDERS, environ.get("AGENT_LS_PROVIDER") or defaults.provider
    )
    script = reader.text("script", environ.get("AGENT_LS_SCRIPT") or None)
    if script and "provider" not in opts and not environ.get("AGENT_LS_PROVIDER"):
        provider = "scripted"
    return AgentConfig(
        provider=provider,
        model=reader.text("model", environ.get("AGENT_LS_MODEL") or None) or defaults.model,
        max_tokens=reader.integer("maxTokens", defaults.max_tokens, 1, 1_000_000),
        base_url=reader.text("baseUrl", environ.get("ANTHROPIC_BASE_URL") or None),
        api_key=environ.get("ANTHROPIC_API_KEY") or secrets.held("ANTHROPIC_API_KEY"),
        max_retries=reader.integer("maxRetries", defaults.max_retries, 0, 10),
        context_window=reader.integer("contextWindow", defaults.context_window, 1000, 10_000_000),
        compaction_threshold=reader.number(
            "compactionThreshold", defaults.compaction_threshold, 0.1, 1.0
        ),
        system_prompt=reader.text("systemPrompt", None),
        permissions=reader.permissions("permissionPolicy"),
        command_timeout=reader.number("commandTimeout", defaults.command_timeout, 1, 3600),
        thinking_budget=reader.optional_integer("thinkingBudget", 1024, 1_000_000),
        script=script,
    )


class OptionReader:
    """Typed reads of camelCase options that fall back to a default with a warning.

    The one warning path for initializationOptions: the server's own options and the agent's
    are read through one reader, and every bad value becomes one sentence in `warnings`.
    """

    def __init__(self, options: Mapping[str, Any], warnings: list[str]) -> None:
        self.options = options
        self.warnings = warnings

    def _bad(self, key: str, expected: str, fallback: object) -> None:
        shown = "the default" if fallback is None else repr(fallback)
        self.warnings.append(f"initializationOptions.{key} must be {expected}; using {shown}")

    def text(self, key: str, default: str | None) -> str | None:
        value = self.options.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip():
            return value.strip()
        self._bad(key, "a non-empty string", default)
        return default

    def boolean(self, key: str, default: bool) -> bool:
        value = self.options.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self._bad(key, "true or false", default)
        return default

    def choice(self, key: str, allowed: Sequence[Any], default: Any) -> Any:
        value = self.options.get(key, default)
        if value in allowed:
            return value
        fallback = default if default in allowed else allowed[0]
        self._bad(key, "one of " + ", ".join(allowed), fallback)
        return fallback

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.options.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self._bad(key, f"an integer from {low} to {high}", default)
        return default

    def optional_integer(self, key: str, low: int, high: int) -> int | None:
        value = self.options.get(key)
        if value is None or (
            isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        ):
            return value
        self._bad(key, f"an integer from {low} to {high}", None)
        return None

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.options.get(key)
        if value is None:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            return float(value)
        self._bad(key, f"a number from {low} to {high}", default)
        return default

    def permissions(self, key: str) -> dict[str, Decision]:
        merged: dict[str, Decision] = dict(DEFAULT_PERMISSIONS)
        value = self.options.get(key)
        if value is None:
            return merged
        if not isinstance(value, Mapping):
            self._bad(key, "an object of tool name or kind to ask|allow|deny", "the defaults")
            return merged
        for name, decision in value.items():
            if decision in DECISIONS:
                merged[str(name)] = decision
            else:
                self._bad(f"{key}.{name}", "ask, allow or deny", merged.get(str(name), "ask"))
        return merged
