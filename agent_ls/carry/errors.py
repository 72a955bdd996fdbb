"""Errors of exports and imports: one sentence each, saying what to do."""

from __future__ import annotations

from agent_ls.sessions.errors import StoreError


class CarryError(StoreError):
    """An export or import that cannot be done as asked (a missing file, a wrong format)."""


class BundleRejected(CarryError):
    """A bundle that is not one, or that tries something a bundle must not (an absolute or
    ``..`` name, a link, a member over the size limits, a blob that does not match its hash)."""
