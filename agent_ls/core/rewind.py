"""Rewind a session to just before one of its user messages: the conversation and the files.

The same all-or-nothing restore as a checkpoint's (merges, conflicts, one undo checkpoint),
over every checkpoint after that message on the active path.
"""

from __future__ import annotations

from collections.abc import Collection

from agent_ls.checkpoints import restore as restoring
from agent_ls.checkpoints.history import SessionView
from agent_ls.checkpoints.recorder import ReadBytes
from agent_ls.checkpoints.restore import RestorePlan, Scope
from agent_ls.core.checkpoints import Checkpoints, RestoreReport, paths_of
from agent_ls.core.sessions import Folder


async def rewind(
    checkpoints: Checkpoints,
    session_id: str,
    entry_id: str,
    *,
    scope: Scope = "both",
    dry_run: bool = False,
    force: bool = False,
    partial: bool = False,
    uris: Collection[str] | None = None,
) -> RestoreReport:
    """Rewind `session_id` to before the user message `entry_id` (SessionNotFound for an unknown
    session, NotARewindPoint for an entry that is not a prompt on the active path)."""
    folder = checkpoints.sessions.locate(session_id)
    paths = paths_of(uris)

    def planner(session: SessionView, folder: Folder, read: ReadBytes) -> RestorePlan:
        return restoring.plan_rewind(
            session,
            entry_id,
            blobs=folder.blobs,
            roots=checkpoints.sessions.roots,
            read_bytes=read,
            scope=scope,
            force=force,
            partial=partial,
            paths=paths,
        )

    return await checkpoints.run(folder, session_id, planner, dry_run, "Agent: rewind")
