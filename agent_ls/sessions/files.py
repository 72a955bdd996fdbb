"""Opening store files without ever blocking: a FIFO or device named like a session is refused
with the store's own error, which says to move it out of the store."""

from __future__ import annotations

import os

from agent_ls.files import regular

from .errors import NotRegularFile

kind_of = regular.kind_of


def open_regular(path: os.PathLike[str] | str, flags: int = os.O_RDONLY) -> int:
    """``files.regular.open_regular``, failing with the store's ``NotRegularFile``."""
    try:
        return regular.open_regular(path, flags)
    except regular.NotRegularFile as exc:
        raise NotRegularFile(path, exc.kind) from None
