"""The permission policy of a session, and the check every tool call passes before it runs."""

from __future__ import annotations

from collections.abc import Mapping

from agent_ls.agent.config import DEFAULT_PERMISSIONS, Decision
from agent_ls.agent.events import ToolCallStarted, ToolKind
from agent_ls.agent.host import ToolHost


class Permissions:
    """The permission policy of one session: configured decisions plus "always" answers.

    The service holds one per session and calls ``remember`` when the user picks allow-always or
    reject-always, so the same kind of call is not asked about again in that session.
    """

    def __init__(self, policy: Mapping[str, Decision] | None = None) -> None:
        self._policy: dict[str, Decision] = dict(policy or DEFAULT_PERMISSIONS)
        self._remembered: dict[str, Decision] = {}

    def decide(self, tool_name: str, kind: ToolKind) -> Decision:
        """A tool name in the policy wins over its kind; remembered answers win over both."""
        for key in (tool_name, kind):
            if key in self._remembered:
                return self._remembered[key]
        for key in (tool_name, kind):
            if key in self._policy:
                return self._policy[key]
        return "ask"

    def remember(self, call: ToolCallStarted, allow: bool) -> None:
        """Remember an allow-always / reject-always answer for this kind of call."""
        self._remembered[call.kind] = "allow" if allow else "deny"


async def authorize(
    call: ToolCallStarted, tool_name: str, permissions: Permissions, host: ToolHost
) -> str | None:
    """None when the call may run, else the reason it may not (told to the model)."""
    decision = permissions.decide(tool_name, call.kind)
    if decision == "allow":
        return None
    if decision == "deny":
        return f"{tool_name} is not allowed by the permission policy of this workspace"
    if await host.request_permission(call):
        return None
    return "the user declined this tool call; ask them how to proceed or try another approach"
