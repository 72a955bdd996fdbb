"""The permission policy of a session, and the check every tool call passes before it runs."""

from __future__ import annotations

import difflib
import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_ls.agent.config import DEFAULT_PERMISSIONS, Decision
from agent_ls.agent.events import DiffContent, ToolCallStarted, ToolKind
from agent_ls.agent.host import ToolHost

COMMAND_KIND = "execute"


@dataclass(frozen=True)
class Rule:
    """A remembered "always" answer: one shell command exactly, or every call of a kind.

    A shell command is only ever remembered as itself (allowing `python -m pytest -q` must not
    allow `rm -rf build`); tools that are not commands are remembered by their kind.
    """

    kind: str
    command: str | None
    decision: Decision

    @property
    def rule_id(self) -> str:
        """Stable for the same scope, so a client can revoke what it listed."""
        return hashlib.sha256(f"{self.kind}\0{self.command}".encode()).hexdigest()[:16]

    @property
    def description(self) -> str:
        verb = "allow" if self.decision == "allow" else "reject"
        if self.command is not None:
            return f"{verb} the command: {self.command}"
        return f"{verb} every {self.kind} tool call"

    def covers(self, kind: str, raw_input: Mapping[str, Any]) -> bool:
        if self.kind != kind:
            return False
        return self.command is None or raw_input.get("command") == self.command


def scope_of(call: ToolCallStarted, allow: bool) -> Rule | None:
    """The rule an "always" answer to `call` remembers (None: this call cannot be remembered)."""
    decision: Decision = "allow" if allow else "deny"
    if call.kind != COMMAND_KIND:
        return Rule(call.kind, None, decision)
    command = call.raw_input.get("command")
    return Rule(call.kind, command, decision) if isinstance(command, str) and command else None


class Permissions:
    """The permission policy of one session: configured decisions plus remembered rules.

    The service holds one per session and calls ``remember`` when the user picks allow-always or
    reject-always; the rules are listed and revocable (`agent/permissions/list`, `…/revoke`).
    """

    def __init__(self, policy: Mapping[str, Decision] | None = None) -> None:
        self._policy: dict[str, Decision] = dict(policy or DEFAULT_PERMISSIONS)
        self._rules: dict[str, Rule] = {}

    def decide(
        self, tool_name: str, kind: ToolKind, raw_input: Mapping[str, Any] | None = None
    ) -> Decision:
        """A remembered rule that covers the call wins; then the tool name, then its kind."""
        for rule in self._rules.values():
            if rule.covers(kind, raw_input or {}):
                return rule.decision
        for key in (tool_name, kind):
            if key in self._policy:
                return self._policy[key]
        return "ask"

    def remember(self, call: ToolCallStarted, allow: bool) -> None:
        """Remember an allow-always / reject-always answer for exactly the scope of the call."""
        rule = scope_of(call, allow)
        if rule is not None:
            self._rules[rule.rule_id] = rule

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def revoke(self, rule_id: str) -> bool:
        """Forget a remembered rule; False when there is none by that id."""
        return self._rules.pop(rule_id, None) is not None


def prompt_text(call: ToolCallStarted) -> str:
    """What a permission prompt shows: the whole command, line breaks and all, never cut."""
    command = call.raw_input.get("command")
    if call.kind == COMMAND_KIND and isinstance(command, str):
        return f"The agent wants to run this command:\n\n{command}"
    diffs = [c for c in call.content if isinstance(c, DiffContent)]
    if diffs:
        changes = "\n".join(f"{d.path}: {diff_counts(d)}" for d in diffs)
        return f"The agent wants to: {call.title}\n\n{changes}"
    return f"The agent wants to: {call.title}"


def diff_counts(diff: DiffContent) -> str:
    """`+added -removed` lines of a change, as a review prompt names it."""
    old = (diff.old_text or "").splitlines()
    new = (diff.new_text or "").splitlines()
    added = removed = 0
    for line in itertools.islice(difflib.unified_diff(old, new, n=0, lineterm=""), 2, None):
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return f"+{added} -{removed}" + (" (new file)" if diff.old_text is None else "")


def prompt_options(call: ToolCallStarted) -> list[dict[str, str]]:
    """The answers, rejecting first: a prompt dismissed or answered by default rejects.

    "Always" names its scope, so the user sees what a remembered answer will cover.
    """
    command = call.kind == COMMAND_KIND
    always = "this exact command" if command else f"every {call.kind} call"
    options = [
        {"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
        {"optionId": "allow_once", "name": "Allow once", "kind": "allow_once"},
        {"optionId": "allow_always", "name": f"Always allow {always}", "kind": "allow_always"},
        {"optionId": "reject_always", "name": f"Always reject {always}", "kind": "reject_always"},
    ]
    if scope_of(call, True) is None:  # nothing to remember it by: no "always"
        options = options[:2]
    return options


async def authorize(
    call: ToolCallStarted, tool_name: str, permissions: Permissions, host: ToolHost
) -> str | None:
    """None when the call may run, else the reason it may not (told to the model)."""
    decision = permissions.decide(tool_name, call.kind, call.raw_input)
    if decision == "allow":
        return None
    if decision == "deny":
        return f"{tool_name} is not allowed by the permission policy of this workspace"
    if await host.request_permission(call):
        return None
    if any(isinstance(c, DiffContent) for c in call.content):
        return "The user rejected this edit; nothing was written. Ask them how to proceed."
    return "the user declined this tool call; ask them how to proceed or try another approach"
