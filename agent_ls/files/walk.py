"""The one file walker: the files git would show, for the tools and for the checkpoint scan.

In a git work tree the answer is git's own: `git ls-files -co --exclude-standard`, so nested
`.gitignore` negations, `.git/info/exclude`, `core.excludesFile` and tracked-but-ignored files
all come out exactly as git sees them. A folder that is not in a work tree is walked here, with
its `.gitignore` files applied as git would (the deepest matching pattern decides; an ignored
directory is not entered); a repository found below it is again listed by git. Only regular
files and symlinks come out (git skips FIFOs and sockets too), never anything in `.git`.

Blocking (a subprocess and many `lstat`s): call it from a worker thread.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent_ls.files.regular import read_regular

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

_Rules = list[tuple[str, "GitIgnoreSpec"]]
"""Ignore rules in force, shallowest first: (the directory they apply below, its patterns)."""

GIT_TIMEOUT = 30.0
_MAX_RULES_BYTES = 1024 * 1024


Stat = tuple[int, int]
"""(size, mtime_ns) from `lstat` (a symlink's own, not its target's)."""


@dataclass
class Walk:
    """The files under a folder: absolute path → `Stat`, in path order; `symlinks` names the
    ones that are symlinks; `complete` is False when the deadline cut the walk short.

    Paths are `str` and stats plain tuples, not an object per file: tens of thousands of
    `Path`s or `stat_result`s cost seconds to build and a long pause of the garbage collector,
    which holds up the event loop's thread too.
    """

    files: dict[str, Stat] = field(default_factory=dict)
    symlinks: set[str] = field(default_factory=set)
    complete: bool = True


def patterns(lines: Iterable[str]) -> GitIgnoreSpec:
    """A matcher for gitignore-style lines; `pathspec` is imported on first use, so the
    server's startup does not pay for it."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """A gitignore-style glob (`*.py` at any depth, `src/**/*.ts` only under src) as a test of
    a relative POSIX path; its compiled pattern is used directly, ten times faster than
    through a spec."""
    compiled = [p for p in patterns([glob]).patterns if p.include]
    return lambda relative: any(p.match_file(relative) is not None for p in compiled)


def walk(
    start: Path,
    *,
    rules_from: Path | None = None,
    exclude: Collection[Path] = (),
    deadline: float | None = None,
) -> Walk:
    """Every file git would show under ``start`` (a real, absolute directory).

    ``rules_from`` is the workspace root ``start`` lies in: outside a git work tree, the
    `.gitignore` files from there down to ``start`` apply too. Directories in ``exclude`` are
    left out. ``deadline`` is a `time.monotonic()` value.
    """
    result = Walk()
    walker = _Walker(result, {os.fspath(p) for p in exclude}, deadline)
    top = os.fspath(start)
    walker.tree(top, _rules_down_to(os.fspath(rules_from or start), top))
    result.files = dict(
        sorted(result.files.items(), key=lambda item: item[0].encode("utf-8", "surrogateescape"))
    )
    return result


class _Walker:
    def __init__(self, result: Walk, exclude: set[str], deadline: float | None) -> None:
        self.result = result
        self.exclude = exclude
        self.deadline = deadline

    def expired(self) -> bool:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.result.complete = False
        return not self.result.complete

    def tree(self, directory: str, rules: _Rules) -> None:
        """One folder: git's answer when it is in a work tree, else a walk of our own with
        ``rules`` (those of the folders above it) in force."""
        listed = self.git_files(directory)
        if listed is None:
            self.plain(directory, rules)
            return
        prefix = directory.rstrip(os.sep) + os.sep
        for relative in listed:
            if self.expired():
                return
            path = prefix + os.fsdecode(relative.rstrip(b"/"))
            if self.excluded(path):
                continue
            try:
                info = os.lstat(path)
            except OSError:  # tracked but deleted from the work tree, or gone since
                continue
            if stat.S_ISDIR(info.st_mode):  # a nested repository or a submodule
                if os.path.lexists(os.path.join(path, ".git")):
                    self.tree(path, [])
            else:
                self.add(path, info)

    def add(self, path: str, info: os.stat_result) -> None:
        """A regular file or a symlink; anything else (a FIFO, a socket, a device) is left out."""
        if stat.S_ISREG(info.st_mode):
            self.result.files[path] = (info.st_size, info.st_mtime_ns)
        elif stat.S_ISLNK(info.st_mode):
            self.result.files[path] = (info.st_size, info.st_mtime_ns)
            self.result.symlinks.add(path)

    def git_files(self, directory: str) -> list[bytes] | None:
        """`git ls-files` run in ``directory``; None when it is not in a work tree (or git is
        missing or refuses, e.g. a repository owned by another user)."""
        timeout = GIT_TIMEOUT
        if self.deadline is not None:
            timeout = max(0.01, min(timeout, self.deadline - time.monotonic()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        try:
            done = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=directory,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.result.complete = False
            return []
        except OSError:
            return None
        if done.returncode != 0:
            return None
        return [name for name in done.stdout.split(b"\0") if name]

    def plain(self, directory: str, rules: _Rules) -> None:
        """Depth-first walk of a folder outside any work tree."""
        if self.expired():
            return
        rules = _with_rules(rules, directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name == ".git" or self.expired():
                continue
            path = entry.path
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if self.excluded(path) or _ignored(path, True, rules):
                    continue
                if os.path.lexists(os.path.join(path, ".git")):
                    self.tree(path, rules)
                else:
                    self.plain(path, rules)
            elif not _ignored(path, False, rules):
                self.add(path, info)

    def excluded(self, path: str) -> bool:
        return bool(self.exclude) and any(
            path == e or path.startswith(e + os.sep) for e in self.exclude
        )


def _rules_down_to(top: str, directory: str) -> _Rules:
    """The rules of the folders from ``top`` down to ``directory``'s parent."""
    relative = os.path.relpath(directory, top)
    if relative == "." or relative.startswith(".."):
        return []
    rules: _Rules = []
    folder = top
    for part in ["", *relative.split(os.sep)[:-1]]:
        folder = os.path.join(folder, part) if part else folder
        rules = _with_rules(rules, folder)
    return rules


def _with_rules(rules: _Rules, directory: str) -> _Rules:
    """``rules`` plus the folder's `.git/info/exclude` (weaker than its `.gitignore`, as in
    git) and its `.gitignore`."""
    for source in (os.path.join(".git", "info", "exclude"), ".gitignore"):
        spec = _load(os.path.join(directory, source))
        if spec is not None:
            rules = [*rules, (directory, spec)]
    return rules


def _load(path: str) -> GitIgnoreSpec | None:
    try:
        text = read_regular(path, _MAX_RULES_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    spec = patterns(text.splitlines())
    return spec if spec.patterns else None


def _ignored(path: str, is_dir: bool, rules: _Rules) -> bool:
    """Git's rule: the deepest rule with a matching pattern decides."""
    for base, spec in reversed(rules):
        relative = path[len(base) + 1 :].replace(os.sep, "/") + ("/" if is_dir else "")
        result = spec.check_file(relative)
        if result.include is not None:
            return result.include
    return False
