"""The tools and the checkpoint scan see the files git sees, and no file can hurt them: FIFOs,
sockets, hostile patterns, names that are not UTF-8, `.GIT`, a deleted workspace folder."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from agent_ls.agent.events import DiffContent, TextContent
from agent_ls.agent.host import DirectHost
from agent_ls.agent.tools import ToolContext, describe_call, execute
from agent_ls.checkpoints import BlobStore, TurnRecorder
from agent_ls.checkpoints.scan import scan
from agent_ls.files.atomic import write_atomic
from agent_ls.files.confine import OutsideWorkspace, confine
from agent_ls.files.walk import walk


def ctx(root: Path, **kwargs: float) -> ToolContext:
    return ToolContext(DirectHost([root]), **kwargs)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace.resolve()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# --- one walker, exactly git's answer


@pytest.fixture
def repo(root: Path, tmp_path: Path) -> Path:
    """Nested negations, .git/info/exclude, core.excludesFile and a tracked ignored file."""
    git(root, "init", "-q")
    write(
        root,
        {
            ".gitignore": "*.log\nbuild/\n",
            "keep/.gitignore": "!important.log\n",
            "keep/important.log": "kept by a nested negation\n",
            "keep/other.log": "ignored\n",
            "secret.txt": "excluded by .git/info/exclude\n",
            "notes.bak": "excluded by core.excludesFile\n",
            "build/out.o": "ignored directory\n",
            "src/app.py": "print('app')\n",
            "src/deep/mod.py": "x = 1\n",
            "tracked.log": "tracked, so shown although *.log is ignored\n",
            "-dash.txt": "a name that looks like an option\n",
        },
    )
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("secret.txt\n")
    global_excludes = tmp_path / "global-ignore"
    global_excludes.write_text("*.bak\n")
    git(root, "config", "core.excludesFile", str(global_excludes))
    git(root, "add", "-f", "tracked.log")
    return root


def git_files(root: Path) -> list[str]:
    return sorted(git(root, "ls-files", "-co", "--exclude-standard", "-z").split("\0")[:-1])


async def test_list_files_grep_and_the_scan_return_what_git_returns(repo: Path) -> None:
    expected = git_files(repo)
    assert "keep/important.log" in expected and "tracked.log" in expected
    assert not {"secret.txt", "notes.bak", "keep/other.log", "build/out.o"} & set(expected)

    listed = await execute("list_files", {}, ctx(repo))
    assert sorted(listed.text.splitlines()) == expected
    found = await execute("grep", {"pattern": "."}, ctx(repo))
    assert sorted({line.split(":")[0] for line in found.text.splitlines()}) == expected
    scanned = scan([repo]).files
    assert sorted(Path(p).relative_to(repo).as_posix() for p in scanned) == expected


async def test_a_subfolder_of_a_work_tree_is_listed_as_git_lists_it(repo: Path) -> None:
    listed = await execute("list_files", {"path": "keep"}, ctx(repo))
    assert listed.text.splitlines() == ["keep/.gitignore", "keep/important.log"]


async def test_outside_git_the_walker_applies_gitignore_files_as_git_does(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without git (no work tree, or no git program) the same rules give the same answer."""
    write(
        root,
        {
            ".gitignore": "*.log\nbuild/\n",
            "keep/.gitignore": "!important.log\n",
            "keep/important.log": "kept\n",
            "keep/other.log": "ignored\n",
            "build/out.o": "ignored\n",
            "secret.txt": "excluded\n",
            "src/app.py": "print('app')\n",
        },
    )
    git(root, "init", "-q")
    (root / ".git" / "info" / "exclude").write_text("secret.txt\n")
    expected = git_files(root)
    monkeypatch.setenv("PATH", "/nonexistent")
    walked = walk(root)
    assert [Path(p).relative_to(root).as_posix() for p in walked.files] == expected
    assert walked.complete


# --- special files


@pytest.fixture
def specials(root: Path) -> Path:
    write(root, {"a.txt": "needle\n", "sub/b.txt": "needle again\n"})
    os.mkfifo(root / "fifo")
    os.mkfifo(root / "sub" / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock"))
    server.close()
    return root


async def test_grep_and_list_files_skip_fifos_and_sockets(specials: Path) -> None:
    started = time.monotonic()
    found = await execute("grep", {"pattern": "needle"}, ctx(specials))
    listed = await execute("list_files", {}, ctx(specials))
    assert time.monotonic() - started < 5
    assert found.text.splitlines() == ["a.txt:1:needle", "sub/b.txt:1:needle again"]
    assert listed.text.splitlines() == ["a.txt", "sub/b.txt"]
    assert sorted(Path(p).name for p in scan([specials]).files) == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("read_file", {"path": "fifo"}),
        ("read_file", {"path": "sock"}),
        ("write_file", {"path": "fifo", "content": "x"}),
        ("edit_file", {"path": "sub/pipe.txt", "old_string": "a", "new_string": "b"}),
        ("grep", {"pattern": "x", "path": "fifo"}),
    ],
)
async def test_file_tools_refuse_what_is_not_a_regular_file(
    specials: Path, name: str, args: dict[str, str]
) -> None:
    outcome = await asyncio.wait_for(execute(name, args, ctx(specials)), 5)
    assert outcome.is_error and "not a regular file" in outcome.text, outcome.text
    assert ("FIFO" in outcome.text) or ("socket" in outcome.text)
    assert (specials / "fifo").is_fifo() and (specials / "sub" / "pipe.txt").is_fifo()


# --- grep: linear time, bounded, cancellable


async def test_a_catastrophic_pattern_answers_at_once(root: Path) -> None:
    write(root, {"a.txt": "a" * 41 + "!\n"})
    started = time.monotonic()
    outcome = await execute("grep", {"pattern": "(a+)+$"}, ctx(root))
    assert time.monotonic() - started < 2
    assert not outcome.is_error and outcome.text.startswith("No matches")


@pytest.fixture
def slow_rg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An rg that hangs (as a search of a huge tree would), telling its pid."""
    pid_file = tmp_path / "rg.pid"
    script = tmp_path / "rg"
    script.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setattr("agent_ls.agent.tools.grep.ripgrep", lambda: str(script))
    return pid_file


def gone(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    return status == "Z"


async def until(condition: object, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_grep_past_its_time_limit_is_stopped_with_a_tool_error(
    root: Path, slow_rg: Path
) -> None:
    write(root, {"a.txt": "text\n"})
    started = time.monotonic()
    outcome = await execute("grep", {"pattern": "text"}, ctx(root, search_timeout=0.5))
    assert time.monotonic() - started < 3
    assert outcome.is_error and "longer than 0.5 s" in outcome.text
    assert gone(slow_rg)


async def test_cancelling_grep_kills_the_search(root: Path, slow_rg: Path) -> None:
    write(root, {"a.txt": "text\n"})
    task = asyncio.ensure_future(execute("grep", {"pattern": "text"}, ctx(root)))
    await until(slow_rg.exists)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(slow_rg)


async def test_grep_searches_the_unsaved_buffer(root: Path) -> None:
    write(root, {"a.txt": "on disk\n", "b.txt": "needle on disk\n"})
    host = DirectHost([root], buffers={root / "a.txt": "needle unsaved\n"})
    outcome = await execute("grep", {"pattern": "needle"}, ToolContext(host))
    assert outcome.text.splitlines() == ["a.txt:1:needle unsaved", "b.txt:1:needle on disk"]


# --- names that are not UTF-8


async def test_names_that_are_not_utf8_are_shown_escaped(root: Path) -> None:
    name = os.fsdecode(b"caf\xe9.txt")
    (root / name).write_text("needle\n")
    listed = await execute("list_files", {}, ctx(root))
    found = await execute("grep", {"pattern": "needle"}, ctx(root))
    assert listed.text == "caf\\xe9.txt"
    assert found.text == "caf\\xe9.txt:1:needle"
    for outcome in (listed, found):
        json.dumps(outcome.text, ensure_ascii=False).encode("utf-8")


# --- writes


@pytest.mark.parametrize("raw", [".GIT/config", ".Git/hooks/pre-commit", "sub/.git./x"])
def test_git_internals_are_refused_whatever_the_case(root: Path, raw: str) -> None:
    with pytest.raises(OutsideWorkspace, match=r"\.git"):
        confine([root], raw, for_write=True)
    recorder = TurnRecorder(BlobStore(root.parent / "blobs"), [root])
    with pytest.raises(OutsideWorkspace):
        recorder.before_change(root / raw)
    assert confine([root], ".github/workflows/ci.yml", for_write=True).name == "ci.yml"


async def test_write_file_into_git_internals_is_a_tool_error(root: Path) -> None:
    outcome = await execute("write_file", {"path": ".GIT/config", "content": "x"}, ctx(root))
    assert outcome.is_error and ".git" in outcome.text
    assert not (root / ".GIT").exists()


async def test_write_file_over_binary_or_big_files_says_it_overwrote_them(root: Path) -> None:
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    (root / "big.txt").write_text("x" * (10 * 1024 * 1024 + 1))
    for name in ("blob.bin", "big.txt"):
        outcome = await execute("write_file", {"path": name, "content": "new\n"}, ctx(root))
        assert not outcome.is_error
        assert outcome.text.startswith(f"Overwrote {name} (1 lines)"), outcome.text
        assert outcome.content == [TextContent(outcome.text)]
        assert (root / name).read_text() == "new\n"
    created = await execute("write_file", {"path": "fresh.txt", "content": "a\n"}, ctx(root))
    assert created.text.startswith("Created")
    assert created.content == [DiffContent(str(root / "fresh.txt"), None, "a\n")]


async def test_a_deleted_workspace_folder_is_not_created_again(root: Path) -> None:
    context = ctx(root)
    root.rmdir()
    outcome = await execute("write_file", {"path": "new.txt", "content": "x"}, context)
    assert outcome.is_error and "no longer exists" in outcome.text
    assert not root.exists()


def test_the_atomic_writer_fsyncs_keeps_the_mode_and_leaves_no_temp_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    script = root / "run.sh"
    script.write_text("old\n")
    script.chmod(0o750)
    write_atomic(script, b"new\n")
    write_atomic(root / "deep" / "new.txt", b"created\n")
    assert script.read_bytes() == b"new\n" and script.stat().st_mode & 0o777 == 0o750
    assert (root / "deep" / "new.txt").read_bytes() == b"created\n"
    umask = os.umask(0)
    os.umask(umask)
    assert (root / "deep" / "new.txt").stat().st_mode & 0o777 == 0o666 & ~umask
    write_atomic(root / "private", b"key\n", mode=0o600)
    assert (root / "private").stat().st_mode & 0o777 == 0o600
    assert len(synced) == 3
    assert sorted(p.name for p in root.rglob("*")) == ["deep", "new.txt", "private", "run.sh"]


async def test_a_path_with_a_lone_surrogate_is_refused_not_carried(root: Path) -> None:
    """A JSON string may hold "\\udcff"; it must not reach an event (which must encode)."""
    raw = "caf\udce9.txt"
    call = describe_call("t", "read_file", {"path": raw}, DirectHost([root]))
    assert call.locations == []
    outcome = await execute("write_file", {"path": raw, "content": "x"}, ctx(root))
    assert outcome.is_error and "not valid Unicode" in outcome.text
    assert list(root.iterdir()) == []
