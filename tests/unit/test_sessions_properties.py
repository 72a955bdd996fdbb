"""Properties: a file cut at any byte still reads as a prefix, and the next append repairs it.

A line that lost only its newline is whole (it parses), so it counts as kept: only an unparsable
tail is torn.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ls.sessions import SessionNotFound, SessionStore
from agent_ls.sessions.format import file_name, parse_lines


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str], str]:
    root = tmp_path_factory.mktemp("root")
    store = SessionStore(root / "ws", root=root)
    sid = store.create().session_id
    with store.writer(sid) as w:
        ids = [
            w.append({"type": "message", "role": "user", "content": f"message {i} ✓ " * (i % 7)})[
                "id"
            ]
            for i in range(30)
        ]
    data = store.info(sid).path.read_bytes()
    store.close()
    return data, ids, sid


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_any_cut_reads_as_a_prefix_and_repairs(
    written: tuple[bytes, list[str], str], tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    data, ids, sid = written
    cut %= len(data) + 1
    root = tmp_path_factory.mktemp("cut")
    store = SessionStore(root / "ws", root=root)
    store.sessions_dir.mkdir(parents=True)
    path = store.sessions_dir / file_name(json.loads(data.split(b"\n", 1)[0])["createdAt"], sid)
    path.write_bytes(data[:cut])
    kept = data[:cut] + b"\n" if data[cut : cut + 1] == b"\n" else data[:cut]
    header_end = data.index(b"\n") + 1
    if len(kept) < header_end:
        with pytest.raises(SessionNotFound):
            store.load(sid)
        assert (store.corrupt_dir / path.name).read_bytes() == data[:cut]
        return
    complete = kept.count(b"\n") - 1
    session = store.load(sid)
    assert [e["id"] for e in session.path()] == ids[:complete]
    page, _ = store.load(sid).history(limit=5)
    assert [e["id"] for e in page] == ids[:complete][-5:]
    assert store.info(sid).message_count == complete
    with store.writer(sid) as w:
        new = w.append({"type": "message", "role": "assistant", "content": "after"})
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line)["id"] for line in lines[1:-1]] == [*ids[:complete], new["id"]]
    store.close()


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_parse_lines_never_raises_and_keeps_only_entries(lines: list[bytes]) -> None:
    data = b"\n".join(line.replace(b"\n", b"") for line in lines) + b"\n"
    for entry in parse_lines(data, "fuzz"):
        assert isinstance(entry, dict) and isinstance(entry["id"], str)
