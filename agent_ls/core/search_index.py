"""The full-text index brought up to date at start-up, in a child process.

Reading a big store and parsing its lines holds the interpreter lock for long stretches: done in
a thread of the server, it stalled the event loop (a 30 MB session: 55-107 ms instead of 13-21
ms). A child `agent-ls sessions index` has its own interpreter and a lower CPU priority. The
index's rows say how far each file is indexed, so the child and a search running meanwhile never
index a line twice; the first search after start-up reads only what the child has not reached.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


async def index_in_child(folders: Sequence[Path], store_root: Path | None) -> None:
    """Index each folder's sessions in turn; a child still running when this task is cancelled
    (the server is shutting down) is killed."""
    env = dict(os.environ)
    if store_root is not None:
        env["AGENT_LS_HOME"] = str(store_root)
    for folder in folders:
        command = ["sessions", "index", "--low-priority", "--workspace", str(folder)]
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent_ls",
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            _, err = await child.communicate()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        if child.returncode:
            problem = err.decode(errors="replace").strip()[-500:]
            log.warning("%s: search index not brought up to date (%s)", folder, problem)
