"""Shared pieces of the reliability suite: scale, raw stdio servers, store checks, memory.

`RELIABILITY_SCALE` (default 1) multiplies the sizes of the suite (crash points, fuzz cases,
load rounds) for a longer local run; the default keeps `make test-reliability` within minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.e2e.harness import REPO, Agent, server_env

FAKE_KEY = "sk-ant-RELIABILITY-FAKE-KEY-7f3a9c2e"
BUSY = -32011  # session_busy
INVALID_PARAMS = -32602


def scale() -> float:
    """How much bigger than the default run to make this one (`RELIABILITY_SCALE`)."""
    try:
        return max(0.1, float(os.environ.get("RELIABILITY_SCALE", "1")))
    except ValueError:
        return 1.0


def scaled(n: int) -> int:
    return max(1, round(n * scale()))


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc/PID/status (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def server_pid(agent: Agent) -> int:
    return int(agent.client._server.pid)  # type: ignore[attr-defined]


# -- the store on disk -------------------------------------------------------------------------


def session_files(home: Path) -> list[Path]:
    return sorted(home.glob("workspaces/*/sessions/*.jsonl"))


def read_lines(path: Path) -> tuple[list[bytes], bytes]:
    """Complete lines of a file and the torn fragment after the last newline (maybe empty)."""
    data = path.read_bytes()
    *lines, tail = data.split(b"\n")
    return lines, tail


def check_file(path: Path) -> list[dict[str, Any]]:
    """Every complete line parses as one JSON object; entry ids are unique; no torn tail."""
    lines, tail = read_lines(path)
    assert tail == b"", f"{path.name}: torn tail {tail[:80]!r}"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{path.name}:{number} does not parse: {line[:120]!r}") from exc
        assert isinstance(obj, dict), f"{path.name}:{number} is not an object"
        parsed.append(obj)
    assert parsed and parsed[0]["type"] == "session", f"{path.name}: no header"
    ids = [e["id"] for e in parsed[1:]]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate entry ids"
    return parsed


def snapshot(home: Path) -> dict[str, list[bytes]]:
    """The complete lines of every session file, by file name."""
    return {p.name: read_lines(p)[0] for p in session_files(home)}


def store_modes(home: Path) -> list[tuple[Path, int]]:
    """(path, mode) of everything under the store root, except the log files tests put there."""
    out = []
    for dirpath, dirnames, filenames in os.walk(home):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out.append((path, path.lstat().st_mode & 0o777))
    return out


# -- a server on raw stdio ---------------------------------------------------------------------


def frame(payload: dict[str, Any] | bytes) -> bytes:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class RawServer:
    """`python -m agent_ls` on pipes, spoken to byte by byte; replies are read by a thread.

    Server → client requests (permission prompts, applyEdit) are answered with a refusal so no
    turn waits on a person.
    """

    def __init__(self, home: Path, workspace: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent_ls"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server_env(home, env),
            cwd=REPO,
        )
        self.workspace = workspace
        self.replies: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.chunks = 0
        self._arrived: queue.Queue[Any] = queue.Queue()
        self._next_id = 0
        self._stderr: list[bytes] = []
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-200]

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    self._arrived.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                key, _, value = line.decode("ascii", "replace").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            message = json.loads(body)
            if not isinstance(message, dict):
                continue
            if "id" in message and "method" in message:
                self._answer(message)
            elif "id" in message:
                key = message["id"]
                if isinstance(key, dict | list):
                    key = json.dumps(key, sort_keys=True)
                self.replies[key] = message
                self._arrived.put(key)
            else:
                if '"agent_message_chunk"' in body.decode(errors="replace"):
                    self.chunks += 1
                self.notifications.append(message)
                del self.notifications[:-500]

    def _answer(self, request: dict[str, Any]) -> None:
        method = request["method"]
        if method == "agent/session/requestPermission":
            result: Any = {"outcome": {"outcome": "cancelled"}}
        elif method == "workspace/applyEdit":
            result = {"applied": False}
        else:
            result = None
        self.write(frame({"jsonrpc": "2.0", "id": request["id"], "result": result}))

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, method: str, params: Any = None, *, notify: bool = False) -> Any:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if notify:
            self.write(frame(message))
            return None
        self._next_id += 1
        message["id"] = self._next_id
        self.write(frame(message))
        return self._next_id

    def wait(self, msg_id: Any, timeout: float) -> dict[str, Any] | None:
        """The reply to `msg_id`, or None if it did not come within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while msg_id not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                if self._arrived.get(timeout=left) is None:
                    return self.replies.get(msg_id)
            except queue.Empty:
                return None
        return self.replies.pop(msg_id)

    def call(self, method: str, params: Any = None, timeout: float = 10) -> dict[str, Any]:
        reply = self.wait(self.send(method, params), timeout)
        if reply is None:
            raise AssertionError(f"{method} did not answer within {timeout}s")
        return reply

    def initialize(self) -> dict[str, Any]:
        reply = self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.workspace.as_uri(),
                "workspaceFolders": [{"uri": self.workspace.as_uri(), "name": "w"}],
                "capabilities": {},
            },
            timeout=30,
        )
        self.send("initialized", {}, notify=True)
        return reply

    def close(self) -> None:
        if self.alive():
            with contextlib.suppress(Exception):
                self.call("shutdown", timeout=5)
                self.send("exit", notify=True)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]


@contextlib.contextmanager
def raw_server(
    home: Path, workspace: Path, env: dict[str, str] | None = None
) -> Iterator[RawServer]:
    server = RawServer(home, workspace, env)
    try:
        server.initialize()
        yield server
    finally:
        server.close()


# -- figures -----------------------------------------------------------------------------------

FIGURES: dict[str, Any] = {}


def record(name: str, value: Any) -> None:
    """A figure for docs/reliability.md, printed at the end of the run."""
    FIGURES[name] = value


@contextlib.contextmanager
def fake_api_process(tmp: Path) -> Iterator[Any]:
    """The fake API in its own process, so its streaming threads do not compete with the test's
    client for the GIL (timings then measure the server). Yields an object with `base_url` and
    `enqueue(*turns)`."""
    import urllib.request

    port_file = tmp / "fake-api.port"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests/fakes/anthropic_server.py"),
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the fake API did not start"
            time.sleep(0.02)

        class Remote:
            base_url = f"http://127.0.0.1:{port_file.read_text().strip()}"

            def enqueue(self, *turns: dict[str, Any]) -> None:
                request = urllib.request.Request(
                    self.base_url + "/_script", data=json.dumps(list(turns)).encode(), method="POST"
                )
                with urllib.request.urlopen(request, timeout=10) as reply:
                    reply.read()

        yield Remote()
    finally:
        proc.terminate()
        proc.wait(10)
