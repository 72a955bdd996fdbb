"""Retention: off by default, a dry run changes nothing, and nothing leaves the trash before a
listing (a dry run, a gc report, `sessions trash`) has shown it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from agent_ls.sessions import SessionStore
from agent_ls.sessions.retention import (
    LISTED,
    Policy,
    policy_for,
    read_policy,
    record_listed,
    run,
    stats,
)
from tests.unit.conftest import user

DAY = 86_400


def aged(store: SessionStore, session_id: str, days: float) -> None:
    """Make a trashed session look deleted ``days`` ago."""
    (info,) = [i for i, _ in store.trash() if i.session_id == session_id]
    then = time.time() - days * DAY
    os.utime(info.path, (then, then))


def names(store: SessionStore) -> tuple[list[str], list[str]]:
    live = [s.session_id for s in store.list(limit=None)[0]]
    return sorted(live), sorted(i.session_id for i, _ in store.trash())


def test_off_by_default_does_nothing(store: SessionStore) -> None:
    sid = store.create().session_id
    store.delete(sid)
    aged(store, sid, 1000)
    assert not policy_for(store).active
    plan = run(store, policy_for(store), dry_run=False)
    assert (plan.to_trash, plan.to_purge, plan.announced) == ([], [], [])
    assert names(store) == ([], [sid])


def test_trash_after_days_dry_run_then_applied(store: SessionStore) -> None:
    old, recent = store.create().session_id, store.create().session_id
    with store.writer(recent) as w:
        w.append(user("still going"))
    cutoff = store.info(recent).modified_at
    time.sleep(0.01)  # times are kept to the millisecond: let "now" pass the last append
    policy = Policy(trash_after_days=1e-9)
    dry = run(store, policy, dry_run=True)
    assert {i.session_id for i in dry.to_trash} == {old, recent}
    assert names(store) == (sorted([old, recent]), [])  # a dry run changes nothing
    (store.dir / "settings.json").write_text(json.dumps({"trashAfterDays": 1e-9}))
    applied = run(store, policy_for(store), dry_run=False, busy={recent})
    assert [i.session_id for i in applied.to_trash] == [old]
    assert any(recent in line for line in applied.skipped)
    assert names(store) == ([recent], [old])
    assert cutoff  # the busy session kept its place and its content
    assert store.load(recent).path()[-1]["content"][0]["text"] == "still going"


def test_purge_takes_only_what_a_listing_showed(store: SessionStore) -> None:
    a, b = store.create().session_id, store.create().session_id
    store.delete(a)
    store.delete(b)
    aged(store, a, 40)
    aged(store, b, 40)
    policy = Policy(purge_trash_after_days=30)
    first = run(store, policy, dry_run=False)  # never listed: announced, not purged
    assert first.to_purge == []
    assert sorted(i.session_id for i, _ in first.announced) == sorted([a, b])
    assert names(store) == ([], sorted([a, b]))
    second = run(store, policy, dry_run=False)
    assert sorted(i.session_id for i, _ in second.to_purge) == sorted([a, b])
    assert names(store) == ([], [])
    assert second.freed_bytes > 0


def test_a_dry_run_lists_and_the_next_run_purges_exactly_that(store: SessionStore) -> None:
    a = store.create().session_id
    store.delete(a)
    aged(store, a, 40)
    policy = Policy(purge_trash_after_days=30)
    dry = run(store, policy, dry_run=True)
    assert [i.session_id for i, _ in dry.announced] == [a]
    assert names(store) == ([], [a])
    late = store.create().session_id  # deleted after the dry run: not shown by it
    store.delete(late)
    aged(store, late, 40)
    applied = run(store, policy, dry_run=False)
    assert [i.session_id for i, _ in applied.to_purge] == [a]
    assert [i.session_id for i, _ in applied.announced] == [late]
    assert names(store) == ([], [late])


def test_a_trash_listing_counts_and_undelete_forgets_it(store: SessionStore) -> None:
    a = store.create().session_id
    store.delete(a)
    aged(store, a, 40)
    record_listed(store, store.trash())
    assert list(json.loads((store.dir / LISTED).read_text())) == [store.trash()[0][0].path.name]
    store.restore(a)
    store.delete(a)
    aged(store, a, 35)
    policy = Policy(purge_trash_after_days=30)
    plan = run(store, policy, dry_run=False)  # deleted again since it was shown: shown again
    assert plan.to_purge == [] and [i.session_id for i, _ in plan.announced] == [a]
    plan = run(store, policy, dry_run=False)
    assert [i.session_id for i, _ in plan.to_purge] == [a]
    record_listed(store, [])
    assert json.loads((store.dir / LISTED).read_text()) == {}


def test_max_store_bytes_purges_listed_trash_then_moves_the_oldest(store: SessionStore) -> None:
    sids = []
    for i in range(4):
        sid = store.create().session_id
        with store.writer(sid) as w:
            w.append(user(f"session {i} " + "x" * 20_000))
        sids.append(sid)
    store.delete(sids[0])
    record_listed(store, store.trash())
    size = run(store, Policy(), dry_run=True).store_bytes
    policy = Policy(max_store_bytes=size - 30_000)
    plan = run(store, policy, dry_run=True)
    assert [i.session_id for i, _ in plan.to_purge] == [sids[0]]
    assert [i.session_id for i in plan.to_trash] == [sids[1]]  # the oldest live session
    run(store, policy, dry_run=False)
    assert names(store) == (sorted(sids[2:]), [sids[1]])


def test_policy_reads_options_and_the_settings_file(store: SessionStore) -> None:
    warnings: list[str] = []
    defaults = read_policy(
        {"trashAfterDays": 90, "maxStoreBytes": 1.5, "purgeTrashAfterDays": -1}, warnings, "opts"
    )
    assert defaults == {"trashAfterDays": 90}
    assert len(warnings) == 2 and all("positive number" in w for w in warnings)
    store.create()
    (store.dir / "settings.json").write_text(json.dumps({"trashAfterDays": 7, "x": 1}))
    assert policy_for(store, defaults) == Policy(trash_after_days=7)
    (store.dir / "settings.json").write_text("{not json")
    assert policy_for(store, defaults) == Policy(trash_after_days=90)


def test_stats_shows_each_workspace(home: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        store = SessionStore(tmp_path / name)
        sid = store.create().session_id
        with store.writer(sid) as w:
            w.append(user("hello " * (100 if name == "b" else 1)))
        if name == "a":
            store.delete(store.create().session_id)
        store.close()
    found = stats()
    assert [Path(s.workspace).name for s in found] == ["b", "a"]
    a = found[1]
    assert (a.sessions, a.trashed) == (1, 1)
    assert a.total_bytes >= a.session_bytes + a.trash_bytes > 0
