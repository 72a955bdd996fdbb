"""Fixtures shared by the session-store tests: a store in a temp AGENT_LS_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ls.sessions import SessionStore


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def store(home: Path, tmp_path: Path) -> Iterator[SessionStore]:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    s = SessionStore(workspace)
    yield s
    s.close()


def user(text: str) -> dict:
    """A user message entry as the store takes it."""
    return {"type": "message", "role": "user", "content": [{"type": "text", "text": text}]}
