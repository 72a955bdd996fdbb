"""The core every front door drives: sessions, prompting and checkpoints behind one editor port.

Nothing here knows a wire format: a front door parses its params, calls these parts, and shapes
the typed results itself (`lsp/protocol.py` for LSP). The outside world (buffers, edits,
permission prompts, updates) is reached only through the `EditorPort` the front door passes in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from agent_ls.agent.config import AgentConfig
from agent_ls.core.checkpoints import Checkpoints
from agent_ls.core.port import EditorPort
from agent_ls.core.prompting import Prompting
from agent_ls.core.sessions import RunningTurns, Sessions
from agent_ls.core.tasks import spawn

log = logging.getLogger(__name__)


class AgentService:
    """The core for one editor window: its folders' sessions, its turns, their checkpoints."""

    def __init__(
        self,
        folder_paths: Iterable[Path],
        editor: EditorPort,
        *,
        store_root: Path | None = None,
        config: AgentConfig | None = None,
    ) -> None:
        self.editor = editor
        self.config = config or AgentConfig()
        self.turns = RunningTurns()
        self.sessions = Sessions(folder_paths, store_root, self.turns)
        self.prompting = Prompting(self.sessions, editor, self.config)
        self.checkpoints = Checkpoints(self.sessions, editor)

    def watch(self, interval: float) -> asyncio.Task[None]:
        """Start polling the stores; the client hears when another window wrote."""
        return spawn(self._watch(interval), "store watch")

    async def _watch(self, interval: float) -> None:
        """The poll stats every session file, tens of milliseconds in a large store: a worker
        thread does it so requests are not held up."""
        while True:
            await asyncio.sleep(interval)
            try:
                if await asyncio.to_thread(self.sessions.foreign_changes):
                    self.editor.list_changed()
            except OSError as exc:  # a folder vanished or the disk is unhappy: keep serving
                log.warning("watching the session store failed: %s", exc)
