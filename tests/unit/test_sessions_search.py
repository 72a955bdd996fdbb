"""Full-text search over a generated store: ranking, snippets, paging, query syntax, and the
FTS index kept in step (rebuilt from the JSONL alone, extended on append)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from agent_ls.sessions import InvalidCursor, SessionStore
from agent_ls.sessions.fulltext import match_expression, plain_snippet
from agent_ls.sessions.search import SearchHit, all_stores, search
from tests.unit.conftest import user

FILLER = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "agents"]


def filler(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(words))


def assistant(*blocks: dict) -> dict:
    return {"type": "message", "role": "assistant", "content": list(blocks)}


def text(value: str) -> dict:
    return {"type": "text", "text": value}


@pytest.fixture
def generated(store: SessionStore) -> dict[str, str]:
    """Twenty sessions of filler; three name "zanzibar" (one often, one once in a long
    message), one has thinking and a tool call; returns their ids by role."""
    rng = random.Random(7)
    ids: dict[str, str] = {}
    for i in range(20):
        sid = store.create(name=f"s{i}").session_id
        with store.writer(sid) as w:
            for _ in range(5):
                w.append(user(filler(rng, 30)))
                w.append(assistant(text(filler(rng, 40))))
            if i == 3:
                ids["often"] = sid
                w.append(user("zanzibar zanzibar zanzibar: the zanzibar deploy failed"))
            if i == 9:
                ids["once"] = sid
                w.append(user(filler(rng, 150) + " zanzibar " + filler(rng, 150)))
            if i == 12:
                ids["tools"] = sid
                edit = {"path": "src/quokka_cache.py", "old_text": "x" * 400}
                thinking = {"type": "thinking", "thinking": "maybe the quokka cache is stale"}
                call = {"type": "tool_use", "id": "t1", "name": "edit_file", "input": edit}
                w.append(assistant(thinking, call))
                output = "wrote src/wombat/loader.py (12 lines)"
                result = {"type": "tool_result", "tool_use_id": "t1", "content": output}
                w.append({"type": "message", "role": "user", "content": [result]})
    return ids


def at(hit: SearchHit, span: list[int]) -> str:
    units = hit.snippet.encode("utf-16-le")
    return units[span[0] * 2 : span[1] * 2].decode("utf-16-le")


def test_ranking_puts_the_denser_match_first_with_highlighted_snippets(
    store: SessionStore, generated: dict[str, str]
) -> None:
    hits, cursor = search([store], "zanzibar")
    assert cursor is None
    assert [h.session_id for h in hits] == [generated["often"], generated["once"]]
    best = hits[0]
    assert best.role == "user" and best.session_name == "s3"
    assert best.snippet == "zanzibar zanzibar zanzibar: the zanzibar deploy failed"
    assert [at(best, s) for s in best.highlights] == ["zanzibar"] * 4
    long = hits[1]
    assert len(long.snippet) <= 160 and "zanzibar" in long.snippet
    assert [at(long, s) for s in long.highlights] == ["zanzibar"]


def test_thinking_tool_names_and_paths_are_searchable(
    store: SessionStore, generated: dict[str, str]
) -> None:
    roles = {h.role for h in search([store], "quokka")[0]}
    assert roles == {"thinking", "tool"}
    (tool,) = search([store], "edit_file")[0]
    assert tool.session_id == generated["tools"] and tool.role == "tool"
    assert "x" * 400 not in tool.snippet  # a long input value (file content) is not indexed
    (output,) = search([store], "wombat loader")[0]
    assert output.role == "tool" and "src/wombat/loader.py" in output.snippet


def test_highlights_count_utf16_units(store: SessionStore) -> None:
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append(user("🎉 café naïve: the pelican landed"))
    (hit,) = search([store], "pelican")[0]
    (span,) = hit.highlights
    assert span == [19, 26]  # the emoji is two UTF-16 units
    assert hit.snippet.index("pelican") == 18
    assert at(hit, span) == "pelican"
    assert [at(h, h.highlights[0]) for h in search([store], "naive")[0]] == ["naïve"]


def test_any_text_is_a_valid_query(store: SessionStore, generated: dict[str, str]) -> None:
    for query in ['"', "AND", "NEAR(", "*", "-fox", "body:fox", "^", "(", "a OR", "'", "", "  "]:
        hits, _ = search([store], query)
        assert isinstance(hits, list)
    exact, prefix = match_expression('fox AND "lazy dog" refac')  # type: ignore[misc]
    assert (exact, prefix) == ('"fox" "AND" "lazy dog" "refac"', '"fox" "AND" "lazy dog" "refac"*')
    assert match_expression("fox ") == ('"fox"', None)
    assert match_expression('"lazy dog"') == ('"lazy dog"', None)
    assert match_expression("  -:* ") is None
    assert search([store], "zanzib")[0], "the last word matches as a prefix"
    assert not search([store], "zanzib ")[0], "a word followed by a space is whole"
    sid = store.create().session_id
    with store.writer(sid) as w:
        w.append(user("a foxglove in the garden"))
    common = search([store], "fox", limit=1000)[0]
    assert len(common) >= 100 and sid not in {h.session_id for h in common}  # fox: whole
    assert [h.session_id for h in search([store], "foxg")[0]] == [sid]  # rare: a prefix


def test_paging_returns_every_hit_once(store: SessionStore, generated: dict[str, str]) -> None:
    everything, _ = search([store], "fox", limit=1000)
    seen: list[tuple[str, str, str]] = []
    cursor = None
    while True:
        page, cursor = search([store], "fox", limit=7, cursor=cursor)
        seen.extend((h.session_id, h.entry_id, h.role) for h in page)
        if cursor is None:
            break
    assert seen == [(h.session_id, h.entry_id, h.role) for h in everything]
    assert len(set(seen)) == len(seen) > 50
    with pytest.raises(InvalidCursor):
        search([store], "fox", cursor="not-a-cursor")


def test_index_rebuilt_from_the_jsonl_alone(
    store: SessionStore, generated: dict[str, str], home: Path, tmp_path: Path
) -> None:
    before = [(h.session_id, h.entry_id, h.snippet) for h in search([store], "zanzibar")[0]]
    index = store._index.path
    store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{index}{suffix}"):
            os.unlink(f"{index}{suffix}")
    fresh = SessionStore(tmp_path / "proj")
    try:
        after = [(h.session_id, h.entry_id, h.snippet) for h in search([fresh], "zanzibar")[0]]
    finally:
        fresh.close()
    assert after == before


def test_after_an_append_only_the_new_line_is_indexed(
    store: SessionStore, generated: dict[str, str]
) -> None:
    search([store], "fox")  # everything indexed
    assert store._index.index_text() == 0
    db = store._index._conn()
    docs = db.execute("SELECT count(*) FROM docs").fetchone()[0]
    first_rowids = db.execute("SELECT min(rowid) FROM docs").fetchone()[0]
    sid = generated["once"]
    with store.writer(sid) as w:
        entry = w.append(user("the platypus migration is done"))
    file = store.info(sid).path.name
    (behind,) = db.execute("SELECT file FROM sessions WHERE fts_offset < offset").fetchall()
    assert behind == (file,)  # the append costs nothing more; one file's tail is pending
    (hit,) = search([store], "platypus")[0]
    assert (hit.session_id, hit.entry_id) == (sid, entry["id"])
    assert db.execute("SELECT count(*) FROM docs").fetchone()[0] == docs + 1
    assert db.execute("SELECT min(rowid) FROM docs").fetchone()[0] == first_rowids  # no rebuild
    assert store._index.index_text() == 0


def test_a_file_changed_by_another_program_is_caught_up(
    store: SessionStore, generated: dict[str, str]
) -> None:
    search([store], "fox")
    path = store.info(generated["often"]).path
    with open(path, "ab") as f:  # another program appends, bypassing the writer
        f.write(
            b'{"type":"message","id":"abcdef01","parentId":null,"ts":"2030-01-01T00:00:00.000Z",'
            b'"role":"user","content":"an echidna appeared"}\n'
        )
    store._index.refresh(store._move_aside, full=True)
    (hit,) = search([store], "echidna")[0]
    assert hit.entry_id == "abcdef01"


def test_a_deleted_session_is_not_found_and_comes_back_with_undelete(
    store: SessionStore, generated: dict[str, str]
) -> None:
    store.delete(generated["often"])
    assert [h.session_id for h in search([store], "zanzibar")[0]] == [generated["once"]]
    store.restore(generated["often"])
    assert len(search([store], "zanzibar")[0]) == 2


def test_search_across_workspaces_merges_by_rank(home: Path, tmp_path: Path) -> None:
    stores = []
    for name, words in (("a", "kiwi"), ("b", "kiwi kiwi kiwi kiwi")):
        folder = tmp_path / name
        folder.mkdir()
        store = SessionStore(folder)
        sid = store.create().session_id
        with store.writer(sid) as w:
            w.append(user(f"{words} and some other words about the orchard"))
        stores.append(store)
    found = all_stores()
    try:
        hits, _ = search(found, "kiwi")
    finally:
        for store in [*found, *stores]:
            store.close()
    assert [Path(h.workspace).name for h in hits] == ["b", "a"]


def test_plain_snippet_caps_length_and_clips_highlights() -> None:
    marked = "x " * 100 + "\x02hit\x03"
    snippet, spans = plain_snippet(marked)
    assert len(snippet) == 160 and snippet.endswith("…") and spans == []
    snippet, spans = plain_snippet("a \x02b\x03 c")
    assert (snippet, spans) == ("a b c", [[2, 3]])


def test_sessions_index_brings_the_index_up_to_date_before_any_search(
    store: SessionStore, generated: dict[str, str], home: Path
) -> None:
    db = store._index._conn()
    command = [sys.executable, "-m", "agent_ls", "sessions", "index", "--low-priority", "--json"]
    ran = subprocess.run(
        [*command, "--workspace", str(store.workspace)], capture_output=True, text=True, check=True
    )
    assert json.loads(ran.stdout) == {"filesRead": 20}
    pending = db.execute("SELECT count(*) FROM sessions WHERE fts_offset < offset").fetchone()
    assert pending == (0,) and db.execute("SELECT count(*) FROM docs").fetchone()[0] > 200
    assert store.index_text() == 0  # the first search reads nothing
    (hit, *_) = search([store], "zanzibar")[0]
    assert hit.session_id == generated["often"]
