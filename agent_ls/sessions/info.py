"""``SessionInfo``: what a session list shows about one session."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .index import Row


class SessionInfo(NamedTuple):
    """What a session list shows about one session (a tuple: ten thousand are cheap to build)."""

    session_id: str
    name: str | None
    workspace: str
    created_at: str
    modified_at: str
    message_count: int
    first_message: str
    parent_session_id: str | None
    file: str  # absolute path of the session file
    tags_json: str | None = None  # as the index keeps them; `tags` and `metadata` parse them
    metadata_json: str | None = None

    @classmethod
    def from_row(cls, row: Row, directory: str | Path) -> SessionInfo:
        """Build from an index row."""
        return cls(
            row.session_id,
            row.name,
            row.cwd,
            row.created_at,
            row.modified_at,
            row.message_count,
            row.first_message or "",
            row.parent_session_id,
            os.path.join(directory, row.file),
            row.tags,
            row.metadata,
        )

    @property
    def tags(self) -> list[str]:
        """The session's tags, sorted."""
        return json.loads(self.tags_json) if self.tags_json else []

    @property
    def metadata(self) -> dict[str, str]:
        """The session's metadata, key → value."""
        return json.loads(self.metadata_json) if self.metadata_json else {}

    @property
    def path(self) -> Path:
        """The session file."""
        return Path(self.file)

    def to_json(self) -> dict[str, Any]:
        """The file path (for scripts), then camelCase fields as on the wire."""
        out: dict[str, Any] = {
            "path": self.file,
            "sessionId": self.session_id,
            "workspace": self.workspace,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "messageCount": self.message_count,
            "firstMessage": self.first_message,
            "tags": self.tags,
            "metadata": self.metadata,
        }
        if self.name is not None:
            out["name"] = self.name
        if self.parent_session_id is not None:
            out["parentSessionId"] = self.parent_session_id
        return out

    @property
    def sort_key(self) -> tuple[str, str]:
        """Newest-first order: by modification time, then id."""
        return (self.modified_at, self.session_id)
