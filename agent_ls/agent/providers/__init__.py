"""Model providers behind one interface (``base.Provider``)."""

from __future__ import annotations

from agent_ls.agent.config import AgentConfig
from agent_ls.agent.providers.base import Provider


def make_provider(config: AgentConfig) -> Provider:
    """The provider the config names; neither import pulls in the SDK."""
    if config.provider == "scripted":
        from agent_ls.agent.providers.scripted import ScriptedProvider

        return ScriptedProvider.from_script(config.script)
    from agent_ls.agent.providers.anthropic import AnthropicProvider

    return AnthropicProvider(config)
