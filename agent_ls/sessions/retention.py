"""Retention that never surprises: old sessions go to the trash, and the trash is emptied only
of sessions that a listing already showed.

Policy (all off by default): ``trashAfterDays`` moves sessions not modified for that long to the
trash; ``purgeTrashAfterDays`` deletes for good sessions deleted that long ago; ``maxStoreBytes``
caps the workspace's store (purging the longest-deleted first, then moving the oldest sessions
to the trash so that a later run can purge them). Every listing of the trash (``sessions
trash``, ``agent/session/trash``, ``sessions gc`` with or without ``--dry-run``) records the
sessions it showed in ``trash-listed.json`` (file name → the deletion time shown); a purge
takes only sessions recorded there by an earlier listing with the same deletion time (one
undeleted and deleted again must be shown again). So a session is always reported at least
once before it is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_ls.files.atomic import write_atomic

from . import layout
from .errors import SessionBusy, SessionNotFound, StoreError
from .store import SessionInfo, SessionStore

log = logging.getLogger(__name__)

SETTINGS = "settings.json"
LISTED = "trash-listed.json"
KEYS = ("trashAfterDays", "purgeTrashAfterDays", "maxStoreBytes")


@dataclass(frozen=True)
class Policy:
    """What retention does; None everywhere (the default) does nothing."""

    trash_after_days: float | None = None
    purge_trash_after_days: float | None = None
    max_store_bytes: int | None = None

    @property
    def active(self) -> bool:
        """Whether any rule is on."""
        rules = (self.trash_after_days, self.purge_trash_after_days, self.max_store_bytes)
        return any(rule is not None for rule in rules)


def read_policy(raw: Mapping[str, Any], warnings: list[str], where: str) -> dict[str, Any]:
    """The valid retention keys of ``raw`` (camelCase); each bad value is named in
    ``warnings`` and left out."""
    out: dict[str, Any] = {}
    for key in KEYS:
        value = raw.get(key)
        if value is None:
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if key == "maxStoreBytes":
            ok = ok and isinstance(value, int)
        if ok:
            out[key] = value
        else:
            warnings.append(f"{where}.{key} must be a positive number; retention ignores it")
    return out


def policy_for(store: SessionStore, defaults: Mapping[str, Any] | None = None) -> Policy:
    """The workspace's policy: its ``settings.json`` over ``defaults`` (initializationOptions)."""
    merged = dict(defaults or {})
    path = store.dir / SETTINGS
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raw = {}
    except (OSError, ValueError) as exc:
        log.warning("%s: not read (%s); retention uses the defaults", path, exc)
        raw = {}
    warnings: list[str] = []
    merged.update(read_policy(raw if isinstance(raw, dict) else {}, warnings, str(path)))
    for warning in warnings:
        log.warning("%s", warning)
    return Policy(
        merged.get("trashAfterDays"),
        merged.get("purgeTrashAfterDays"),
        merged.get("maxStoreBytes"),
    )


@dataclass
class Plan:
    """What a retention run moves and deletes, and what it shows for a later run to purge."""

    store_bytes: int
    to_trash: list[SessionInfo] = field(default_factory=list)
    to_purge: list[tuple[SessionInfo, str]] = field(default_factory=list)
    announced: list[tuple[SessionInfo, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sentences: why something stayed
    freed_bytes: int = 0


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` (0 if it does not exist)."""
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_size
    return total


def _listed(store: SessionStore) -> dict[str, str]:
    try:
        raw = json.loads((store.dir / LISTED).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}


def record_listed(store: SessionStore, shown: list[tuple[SessionInfo, str]]) -> None:
    """Remember that these trashed sessions were shown, with the deletion time shown; names
    no longer in the trash are forgotten."""
    listed = _listed(store)
    in_trash = {p.name for p in store.trash_dir.glob("*.jsonl")}
    kept = {name: at for name, at in listed.items() if name in in_trash}
    for info, deleted_at in shown:
        kept[info.path.name] = deleted_at
    if kept != listed and store.dir.is_dir():
        data = json.dumps(kept, indent=1, sort_keys=True).encode()
        write_atomic(store.dir / LISTED, data, mode=0o600)


def plan(store: SessionStore, policy: Policy, now: datetime | None = None) -> Plan:
    """What a run would do now (reads only)."""
    now = now or datetime.now(UTC)
    result = Plan(tree_bytes(store.dir))
    if not policy.active or not store.dir.is_dir():
        return result
    listed = _listed(store)
    live, _ = store.list(limit=None)
    trash = store.trash()

    def older(stamp: str, days: float | None) -> bool:
        return days is not None and stamp < _iso(now - timedelta(days=days))

    result.to_trash = [s for s in live if older(s.modified_at, policy.trash_after_days)]
    for info, deleted_at in trash:
        if older(deleted_at, policy.purge_trash_after_days):
            shown = listed.get(info.path.name) == deleted_at
            (result.to_purge if shown else result.announced).append((info, deleted_at))
    if policy.max_store_bytes is not None:
        _fit(result, policy.max_store_bytes, listed, live, trash)
    return result


def _fit(
    result: Plan,
    budget: int,
    listed: dict[str, str],
    live: list[SessionInfo],
    trash: list[tuple[SessionInfo, str]],
) -> None:
    """Add to the plan what brings the store under ``budget``: purge listed trash, longest
    deleted first; then move the oldest sessions to the trash (a later run purges them)."""
    size = result.store_bytes - sum(_size(i) for i, _ in result.to_purge)
    chosen = {i.session_id for i, _ in result.to_purge}
    for info, deleted_at in sorted(trash, key=lambda pair: pair[1]):
        if size <= budget:
            return
        if info.session_id in chosen:
            continue
        if listed.get(info.path.name) == deleted_at:
            result.to_purge.append((info, deleted_at))
            size -= _size(info)
        elif all(info.session_id != i.session_id for i, _ in result.announced):
            result.announced.append((info, deleted_at))
            size -= _size(info)  # freed by a later run, once this one has shown it
    moving = {i.session_id for i in result.to_trash}
    for info in sorted(live, key=lambda i: i.sort_key):
        if size <= budget:
            return
        if info.session_id not in moving:
            result.to_trash.append(info)
            size -= _size(info)


def _size(info: SessionInfo) -> int:
    try:
        return os.stat(info.path).st_size
    except OSError:
        return 0


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def apply(store: SessionStore, planned: Plan, busy: Collection[str] = ()) -> Plan:
    """Carry out a plan: move to the trash (a session being written, here or elsewhere, is
    skipped), purge, then drop checkpoint blobs nothing names any more."""
    from agent_ls.checkpoints.gc import collect

    moved: list[SessionInfo] = []
    for info in planned.to_trash:
        if info.session_id in busy:
            planned.skipped.append(f"{info.session_id} is running a turn; left in place")
            continue
        try:
            store.delete(info.session_id)
            moved.append(info)
        except (SessionBusy, SessionNotFound) as exc:
            planned.skipped.append(f"{info.session_id}: {exc}; left in place")
    planned.to_trash = moved
    purged: list[tuple[SessionInfo, str]] = []
    for info, deleted_at in planned.to_purge:
        try:
            size = os.stat(info.path).st_size
            os.unlink(info.path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            planned.skipped.append(f"{info.path}: {exc.strerror}; not purged")
            continue
        planned.freed_bytes += size
        purged.append((info, deleted_at))
    planned.to_purge = purged
    if purged:
        try:
            planned.freed_bytes += collect(store.dir).freed_bytes
        except (OSError, StoreError) as exc:
            planned.skipped.append(f"checkpoint blobs not collected: {exc}")
    return planned


def run(store: SessionStore, policy: Policy, *, dry_run: bool, busy: Collection[str] = ()) -> Plan:
    """One gc run: plan, apply unless ``dry_run``, and record what the report shows of the
    trash (so a later run may purge it)."""
    result = plan(store, policy)
    if not dry_run:
        result = apply(store, result, busy)
    shown = {i.session_id for i, _ in result.announced}
    shown |= {i.session_id for i, _ in result.to_purge} if dry_run else set()
    shown |= set() if dry_run else {i.session_id for i in result.to_trash}
    record_listed(store, [(i, at) for i, at in store.trash() if i.session_id in shown])
    return result


@dataclass(frozen=True)
class WorkspaceStats:
    """The size of one workspace's store."""

    directory: str
    workspace: str
    sessions: int
    session_bytes: int
    trashed: int
    trash_bytes: int
    blob_bytes: int
    total_bytes: int


def stats(root: Path | None = None) -> list[WorkspaceStats]:
    """Every workspace's store under ``root``, biggest first."""
    from agent_ls.checkpoints.gc import BLOBS

    base = layout.workspaces_dir(Path(root) if root is not None else layout.store_root())
    out: list[WorkspaceStats] = []
    with contextlib.suppress(FileNotFoundError), os.scandir(base) as it:
        for item in it:
            if not item.is_dir():
                continue
            directory = Path(item.path)
            store = SessionStore.at(directory, root=base.parent)
            try:
                live, _ = store.list(limit=None)
                trash = store.trashed()
            finally:
                store.close()
            workspace = next((s.workspace for s in [*live, *trash]), "")
            out.append(
                WorkspaceStats(
                    str(directory),
                    workspace,
                    len(live),
                    tree_bytes(directory / layout.SESSIONS),
                    len(trash),
                    tree_bytes(directory / layout.TRASH),
                    tree_bytes(directory / BLOBS),
                    tree_bytes(directory),
                )
            )
    out.sort(key=lambda s: s.total_bytes, reverse=True)
    return out
