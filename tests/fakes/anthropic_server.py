"""A local fake of the Anthropic Messages API, streaming canned turns as SSE.

Used by the unit tests (the real ``anthropic`` SDK talks to it), the end-to-end tests and the
Neovim and VS Code tests, which start it as a script::

    python tests/fakes/anthropic_server.py [--port N] [--port-file PATH] [--script FILE]

It prints ``listening on http://127.0.0.1:PORT`` and serves until killed. Turns follow the format
of ``agent_ls.agent.providers.turns``; with none queued it echoes the last user text.

Endpoints: ``POST /v1/messages`` (streaming or not), ``POST /_script`` (append a JSON list of
turns), ``GET /_requests`` (recorded requests, Authorization and x-api-key left out; the key's
sha256 is kept as ``keyDigest`` so a test can tell which key came),
``POST /_reset`` (drop queued turns and recorded requests).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent_ls.agent.providers.turns import (
    Turn,
    TurnFormatError,
    echo_turn,
    load_turns,
    message_json,
    parse_turn,
    sse_events,
)

_HIDDEN_HEADERS = {"authorization", "x-api-key"}


class _State:
    """Queued turns and recorded requests, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.turns: deque[Turn] = deque()
        self.requests: list[dict[str, Any]] = []

    def next_turn(self, messages: list[dict[str, Any]]) -> Turn:
        with self.lock:
            return self.turns.popleft() if self.turns else echo_turn(messages)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the tests read stdout and stderr."""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/_requests":
            with self.server.state.lock:
                self._send_json(200, list(self.server.state.requests))
        else:
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error"}})

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            self._send_error(400, "invalid_request_error", "body is not JSON")
            return
        state = self.server.state
        if path == "/_script":
            try:
                turns = load_turns(body if isinstance(body, list) else [body])
            except TurnFormatError as exc:
                self._send_error(400, "invalid_request_error", str(exc))
                return
            with state.lock:
                state.turns.extend(turns)
                queued = len(state.turns)
            self._send_json(200, {"queued": queued})
        elif path == "/_reset":
            with state.lock:
                state.turns.clear()
                state.requests.clear()
            self._send_json(200, {})
        elif path == "/v1/messages":
            self._messages(body if isinstance(body, dict) else {})
        else:
            self._send_error(404, "not_found_error", f"no such path {path}")

    def _key(self) -> str:
        """The credential sent (as x-api-key or a bearer token, as SDK versions differ)."""
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
        return self.headers.get("x-api-key") or bearer

    def _messages(self, body: dict[str, Any]) -> None:
        state = self.server.state
        record = {
            "path": self.path,
            "headers": {
                k.lower(): v for k, v in self.headers.items() if k.lower() not in _HIDDEN_HEADERS
            },
            "keyDigest": hashlib.sha256(self._key().encode()).hexdigest(),
            "body": body,
            "outcome": "pending",
        }
        with state.lock:
            state.requests.append(record)
        turn = state.next_turn(list(body.get("messages") or []))
        model = str(body.get("model") or "fake-model")
        if turn.error is not None:
            headers = {}
            if turn.error.retry_after is not None:
                headers["retry-after"] = str(math.ceil(turn.error.retry_after))
                headers["retry-after-ms"] = str(int(turn.error.retry_after * 1000))
            self._send_json(turn.error.status, turn.error.body(), headers)
            record["outcome"] = "error"
        elif body.get("stream"):
            record["outcome"] = self._stream(turn, model)
        else:
            self._send_json(200, message_json(turn, model))
            record["outcome"] = "completed"

    def _stream(self, turn: Turn, model: str) -> str:
        """Write the turn as chunked SSE; say how the stream ended."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for name, data in sse_events(turn, model):
                if turn.delay_ms and name == "content_block_delta":
                    time.sleep(turn.delay_ms / 1000)
                self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            if turn.cut_after is not None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return "cut"
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return "client_closed"
        return "completed"

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_error(self, status: int, kind: str, message: str) -> None:
        self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}})

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class FakeAnthropic:
    """The fake API in a background thread; a context manager for tests."""

    def __init__(self, turns: Iterable[Turn | Mapping[str, Any]] = (), *, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State()
        self._thread: threading.Thread | None = None
        self.enqueue(*turns)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *turns: Turn | Mapping[str, Any]) -> None:
        """Queue model responses (turn objects or parsed JSON), played one per request in order."""
        parsed = [turn if isinstance(turn, Turn) else parse_turn(turn) for turn in turns]
        with self._server.state.lock:
            self._server.state.turns.extend(parsed)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received: ``{path, headers, body, outcome}``."""
        with self._server.state.lock:
            return list(self._server.state.requests)

    @property
    def pending(self) -> int:
        """How many queued turns are still unplayed."""
        with self._server.state.lock:
            return len(self._server.state.turns)

    def reset(self) -> None:
        with self._server.state.lock:
            self._server.state.turns.clear()
            self._server.state.requests.clear()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command line) until shut down."""
        try:
            self._server.serve_forever(poll_interval=0.02)
        finally:
            self._server.server_close()

    def start(self) -> FakeAnthropic:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local fake of the Anthropic Messages API.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--port-file", type=Path, help="write the chosen port to this file")
    parser.add_argument("--script", help="a JSON file of turns to queue")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(load_turns(args.script) if args.script else (), port=args.port)
    if args.port_file:
        tmp = args.port_file.with_name(args.port_file.name + ".tmp")
        tmp.write_text(str(fake.port))
        os.replace(tmp, args.port_file)
    print(f"listening on {fake.base_url}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
