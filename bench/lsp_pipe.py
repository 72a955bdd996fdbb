"""A raw JSON-RPC client over a child process's pipes, for the server benchmarks.

Content-Length framing and `json` only: no pygls, no asyncio, so the client adds as little as
possible to what is measured. Every message read is stamped with `time.time()` the moment its
body has been read, so times can be compared with stamps taken in other processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import IO, Any


class ServerExited(RuntimeError):
    """The server closed its stdout before the awaited message arrived."""


class LspPipe:
    """One server process started on stdio; `send`, `read` and `request` speak JSON-RPC."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    ) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=cwd,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out = self.proc.stdout
        self._next_id = 0
        self._send_lock = threading.Lock()  # a reader thread may answer server requests

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, separators=(",", ":")).encode()
        with self._send_lock:
            self._in.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self._in.flush()

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def send_request(self, method: str, params: Any = None) -> int:
        with self._send_lock:
            self._next_id += 1
            msg_id = self._next_id
        self.send({"id": msg_id, "method": method, "params": params})
        return msg_id

    def read(self) -> tuple[float, dict[str, Any]]:
        """The next message and the wall-clock time it was read; ServerExited at end of stream."""
        length = None
        while True:
            line = self._out.readline()
            if not line:
                raise ServerExited(f"server exited with {self.proc.poll()}")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError("a message without Content-Length")
        body = b""
        while len(body) < length:
            chunk = self._out.read(length - len(body))
            if not chunk:
                raise ServerExited(f"server exited with {self.proc.poll()}")
            body += chunk
        stamp = time.time()
        return stamp, json.loads(body)

    def answer_server_request(self, message: dict[str, Any]) -> bool:
        """Answer a server → client request with a null result; False if not a request."""
        if "method" in message and "id" in message:
            self.send({"id": message["id"], "result": None})
            return True
        return False

    def request(self, method: str, params: Any = None) -> Any:
        """Send a request and read until its response (answering server requests meanwhile)."""
        msg_id = self.send_request(method, params)
        while True:
            _, message = self.read()
            if self.answer_server_request(message):
                continue
            if message.get("id") == msg_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result")

    def close(self, timeout: float = 5) -> int:
        """shutdown + exit, then wait; kill if the server does not go."""
        with contextlib.suppress(Exception):
            msg_id = self.send_request("shutdown")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                _, message = self.read()
                if self.answer_server_request(message):
                    continue
                if message.get("id") == msg_id:
                    break
            self.notify("exit")
        with contextlib.suppress(Exception):
            self._in.close()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        with contextlib.suppress(Exception):
            self._out.close()
        return code


def initialize_params(workspace: str | None = None) -> dict[str, Any]:
    """What a plain editor sends: a process id, a workspace folder, modest capabilities."""
    params: dict[str, Any] = {
        "processId": os.getpid(),
        "clientInfo": {"name": "agent-ls-bench", "version": "1"},
        "capabilities": {
            "workspace": {"applyEdit": True, "workspaceFolders": True},
            "textDocument": {"synchronization": {"dynamicRegistration": False}},
            "window": {"workDoneProgress": True},
        },
    }
    if workspace is not None:
        uri = "file://" + os.path.abspath(workspace)
        params["rootUri"] = uri
        params["workspaceFolders"] = [{"uri": uri, "name": os.path.basename(workspace)}]
    return params
