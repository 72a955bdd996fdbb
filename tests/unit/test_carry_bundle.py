"""Bundles: export from one store, import into another (ids kept, checkpoints restorable there),
clashing ids, idempotence, and hostile archives refused before anything is written."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from agent_ls.carry import bundle
from agent_ls.carry.bundle import import_bundle, write_bundle
from agent_ls.carry.errors import BundleRejected
from agent_ls.checkpoints import BlobStore, TurnRecorder, checkpoint_entry
from agent_ls.cli import checkpoints as cli_checkpoints
from agent_ls.sessions import SessionStore


@pytest.fixture
def origin(tmp_path: Path):
    """Store A: a session whose turn changed a.txt (v0 → v1) and created b.txt."""
    root = tmp_path / "machine-a" / "proj"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("v0\n")
    store = SessionStore(root, root=tmp_path / "store-a")
    blobs = BlobStore(store.dir / "blobs")
    sid = store.create(name="carry me").session_id
    with store.writer(sid) as w:
        w.append({"type": "message", "role": "user", "content": "change a, add b"})
        recorder = TurnRecorder(blobs, [root])
        recorder.before_change(root / "a.txt")
        recorder.before_change(root / "b.txt")
        (root / "a.txt").write_text("v1\n")
        (root / "b.txt").write_text("new\n")
        checkpoint = w.append(checkpoint_entry("turn-1", recorder.finish()))["id"]
    yield store, blobs, sid, checkpoint
    store.close()


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Store B on another "machine" (the default store): the same files, another folder."""
    monkeypatch.setenv("AGENT_LS_HOME", str(tmp_path / "store-b"))
    root = tmp_path / "machine-b" / "work"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("v1\n")
    (root / "b.txt").write_text("new\n")
    store = SessionStore(root)
    yield store, BlobStore(store.dir / "blobs")
    store.close()


def restore(store: SessionStore, sid: str, checkpoint: str) -> int:
    """`agent-ls sessions restore SID:CHECKPOINT` in the store's workspace."""
    parser = argparse.ArgumentParser()
    cli_checkpoints.add_parsers(parser.add_subparsers())
    args = parser.parse_args(
        ["restore", f"{sid}:{checkpoint}", "--workspace", str(store.workspace)]
    )
    return cli_checkpoints.run(args)


def test_round_trip_restores_a_checkpoint_on_the_second_store(origin, target, tmp_path):
    store_a, blobs_a, sid, checkpoint = origin
    store_b, blobs_b = target
    out = tmp_path / "s.tar"
    assert write_bundle(store_a, blobs_a, sid, out) == out.stat().st_size
    report = import_bundle(store_b, blobs_b, out)
    [info] = report.imported
    assert info.session_id == sid and info.name == "carry me" and report.problems == []
    assert info.workspace == str(store_b.workspace)
    moved = store_b.load(sid).get(checkpoint)
    assert {f["path"] for f in moved["files"]} == {
        str(store_b.workspace / "a.txt"),
        str(store_b.workspace / "b.txt"),
    }
    assert restore(store_b, sid, checkpoint) == 0
    assert (store_b.workspace / "a.txt").read_text() == "v0\n"
    assert not (store_b.workspace / "b.txt").exists()
    assert (store_a.workspace / "a.txt").read_text() == "v1\n"  # the origin is untouched


def test_importing_again_or_back_home_is_skipped(origin, target, tmp_path):
    store_a, blobs_a, sid, _ = origin
    store_b, blobs_b = target
    out = tmp_path / "s.tar"
    write_bundle(store_a, blobs_a, sid, out)
    assert len(import_bundle(store_b, blobs_b, out).imported) == 1
    again = import_bundle(store_b, blobs_b, out)
    assert again.imported == [] and again.skipped == 1
    home = import_bundle(store_a, blobs_a, out)
    assert home.imported == [] and home.skipped == 1


def test_a_different_session_with_the_id_gets_a_new_id(origin, target, tmp_path):
    store_a, blobs_a, sid, _ = origin
    store_b, blobs_b = target
    mine = {
        "type": "session",
        "version": 1,
        "id": sid,
        "cwd": str(store_b.workspace),
        "createdAt": "2020-01-01T00:00:00.000Z",
    }
    store_b.adopt(mine, [])
    out = tmp_path / "s.tar"
    write_bundle(store_a, blobs_a, sid, out)
    report = import_bundle(store_b, blobs_b, out)
    [info] = report.imported
    assert info.session_id != sid
    assert report.problems == [
        f"a different session {sid} exists here; imported as {info.session_id}"
    ]
    assert store_b.load(sid).header["createdAt"] == "2020-01-01T00:00:00.000Z"  # untouched
    assert store_b.load(info.session_id).header["bundleOf"] == sid
    again = import_bundle(store_b, blobs_b, out)  # the copy is known by the id it had
    assert again.imported == [] and again.skipped == 1


def test_missing_snapshots_are_reported(origin, target, tmp_path):
    store_a, blobs_a, sid, _ = origin
    store_b, blobs_b = target
    for sha in list(blobs_a):
        blobs_a.delete(sha)
    out = tmp_path / "s.tar"
    write_bundle(store_a, blobs_a, sid, out)
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["blobs"] == [] and len(manifest["missingBlobs"]) == 3  # a before/after, b
    report = import_bundle(store_b, blobs_b, out)
    assert "3 checkpoint snapshot(s) are not in the bundle" in report.problems[0]


def tar_of(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return data.getvalue()


def good_members(origin, tmp_path) -> list[tuple[str, bytes]]:
    store_a, blobs_a, sid, _ = origin
    out = tmp_path / "good.tar"
    write_bundle(store_a, blobs_a, sid, out)
    with tarfile.open(out) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar]


def link(name: str, kind: bytes, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("../escape.txt", b"x"), "not part of a bundle"),
        (("/etc/evil", b"x"), "not part of a bundle"),
        (("blobs/../../x", b"x"), "not part of a bundle"),
        (link("blobs/" + "0" * 64, tarfile.SYMTYPE, "/etc/passwd"), "not a regular file"),
        (link("blobs/" + "1" * 64, tarfile.LNKTYPE, "manifest.json"), "not a regular file"),
        (("blobs/" + hashlib.sha256(b"real").hexdigest(), b"forged"), None),
        (("manifest.json", b"{}"), "appears twice"),
    ],
)
def test_hostile_bundles_are_refused_and_write_nothing(origin, target, tmp_path, extra, reason):
    store_b, blobs_b = target
    members = good_members(origin, tmp_path)
    evil = tmp_path / "evil.tar"
    if reason is None:  # a snapshot the session names, whose content is not what it says
        session = dict(members)["session.jsonl"]
        last = session.splitlines()[-1]
        forged = json.loads(last)
        forged["files"][0]["before"] = extra[0].removeprefix("blobs/")
        session = session.replace(last, json.dumps(forged).encode())
        members = [(n, session if n == "session.jsonl" else d) for n, d in members]
        reason = "does not match its hash"
    evil.write_bytes(tar_of([*members, extra]))
    with pytest.raises(BundleRejected, match=reason):
        import_bundle(store_b, blobs_b, evil)
    assert store_b.list()[0] == []
    assert not (tmp_path / "escape.txt").exists()


def test_size_limits_and_non_bundles(origin, target, tmp_path, monkeypatch):
    store_b, blobs_b = target
    members = good_members(origin, tmp_path)
    big = tmp_path / "big.tar"
    big.write_bytes(tar_of(members))
    monkeypatch.setattr(bundle, "MAX_BLOB_BYTES", 2)
    with pytest.raises(BundleRejected, match="over 0 MiB"):
        import_bundle(store_b, blobs_b, big)
    noise = tmp_path / "noise.tar"
    noise.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(BundleRejected, match=r"not a readable \.tar bundle"):
        import_bundle(store_b, blobs_b, noise)
    with pytest.raises(BundleRejected, match=r"needs manifest\.json"):
        empty = tmp_path / "empty.tar"
        empty.write_bytes(tar_of([("session.jsonl", b"")]))
        import_bundle(store_b, blobs_b, empty)
    with pytest.raises(BundleRejected, match="does not exist"):
        import_bundle(store_b, blobs_b, tmp_path / "nowhere.tar")
    fifo = tmp_path / "fifo.tar"
    os.mkfifo(fifo)
    with pytest.raises(BundleRejected, match="FIFO"):  # refused at once, never read
        import_bundle(store_b, blobs_b, fifo)
    session = dict(members)["session.jsonl"]
    header, *lines = session.splitlines()
    looped = json.loads(lines[0])
    looped["parentId"] = "f" * 8  # a parent that is not an earlier entry
    tangled = tmp_path / "tangled.tar"
    tangled.write_bytes(
        tar_of([("manifest.json", dict(members)["manifest.json"]),
                ("session.jsonl", b"\n".join([header, json.dumps(looped).encode()]) + b"\n")])
    )  # fmt: skip
    with pytest.raises(BundleRejected, match="no earlier parent"):
        import_bundle(store_b, blobs_b, tangled)
    assert store_b.list()[0] == []


# -- the same bundle packed again as a .zip ----------------------------------------------------


def zip_of(members: list[tuple[str, bytes]], links: tuple[str, ...] = ()) -> bytes:
    """A deflated zip of ``members``; the ``links`` among them marked as symbolic links."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o120777 if name in links else 0o100600) << 16
            archive.writestr(info, content)
    return data.getvalue()


def test_a_bundle_repacked_as_zip_imports_and_restores(origin, target, tmp_path):
    _, _, sid, checkpoint = origin
    store_b, blobs_b = target
    packed = tmp_path / "s.zip"
    packed.write_bytes(zip_of(good_members(origin, tmp_path)))
    [info] = import_bundle(store_b, blobs_b, packed).imported
    assert info.session_id == sid and info.name == "carry me"
    assert restore(store_b, sid, checkpoint) == 0
    assert (store_b.workspace / "a.txt").read_text() == "v0\n"


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the zip is made with one on purpose
def test_hostile_zips_are_refused_and_write_nothing(origin, target, tmp_path):
    store_b, blobs_b = target
    members = good_members(origin, tmp_path)
    sha = hashlib.sha256(b"real").hexdigest()
    cases = [
        (zip_of([*members, ("../escape.txt", b"x")]), "not part of a bundle"),
        (zip_of([*members, (f"blobs/{sha}", b"/etc/passwd")], links=(f"blobs/{sha}",)),
         "not a regular file"),
        (zip_of([*members, ("manifest.json", b"{}")]), "appears twice"),
        (b"PK\x03\x04" + b"\0" * 100, r"not a readable \.(zip|tar) bundle"),
    ]  # fmt: skip
    for n, (data, reason) in enumerate(cases):
        evil = tmp_path / f"evil{n}.zip"
        evil.write_bytes(data)
        with pytest.raises(BundleRejected, match=reason):
            import_bundle(store_b, blobs_b, evil)
    assert store_b.list()[0] == []
    assert not (tmp_path / "escape.txt").exists()


def test_a_zip_member_that_inflates_past_its_size_is_refused(origin, target, tmp_path):
    """A zip bomb's declared size is what is read: nothing past it is ever inflated."""
    store_b, blobs_b = target
    members = good_members(origin, tmp_path)
    packed = bytearray(zip_of(members))
    session = dict(members)["session.jsonl"]
    # the session member's sizes, in its local header and in the central directory, made smaller
    size = len(session).to_bytes(4, "little")
    smaller = (len(session) - 10).to_bytes(4, "little")
    assert packed.count(size) >= 2
    evil = tmp_path / "bomb.zip"
    evil.write_bytes(bytes(packed).replace(size, smaller))
    with pytest.raises(BundleRejected, match=r"readable|cut short|CRC"):
        import_bundle(store_b, blobs_b, evil)
    assert store_b.list()[0] == []
