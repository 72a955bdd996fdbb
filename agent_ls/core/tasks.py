"""Background tasks that cannot fail silently: each one logs its failure when it ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def spawn(coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
    """Start `coro` as a task whose exception, if nobody else reads it, is logged with `name`."""
    task = asyncio.ensure_future(coro)
    task.set_name(name)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    exc = task.exception()  # marks the exception retrieved: no "never retrieved" warning
    if exc is not None:
        log.error("background task %s failed: %s", task.get_name(), exc, exc_info=exc)
