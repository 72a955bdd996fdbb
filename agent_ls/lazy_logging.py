"""Loggers that import :mod:`logging` when first used.

The store's modules log only on rare paths, yet importing ``logging`` (with ``traceback``,
``tokenize`` and the regular expressions they compile) was about 15 ms of the 60 ms that
`agent-ls sessions list` may take as a whole process. So they take their logger from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import logging


class _Deferred:
    """Stands in for ``logging.getLogger(name)`` until one of its attributes is used."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attribute: str) -> object:
        if self._logger is None:
            import logging

            self._logger = logging.getLogger(self._name)
        return getattr(self._logger, attribute)


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, looked up (and ``logging`` imported) at first use."""
    return cast("logging.Logger", _Deferred(name))
