"""Hostile params: a property-based fuzzer on every custom method of one long-lived server.

Every request must answer with a result or a JSON-RPC error within a second, and the server
must stay alive. Internal errors (-32603) are allowed only for the store's and the file
system's own failures, which the server words itself ("session store: …", "file system: …");
anything else means an exception escaped a handler.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.support import RawServer, frame, raw_server, record, scaled

pytestmark = pytest.mark.reliability

REQUESTS = [
    "agent/session/list",
    "agent/session/new",
    "agent/session/switch",
    "agent/session/resumeRecent",
    "agent/session/history",
    "agent/session/rename",
    "agent/session/delete",
    "agent/session/fork",
    "agent/session/prompt",
    "agent/checkpoint/list",
    "agent/checkpoint/diff",
    "agent/checkpoint/restore",
    "agent/permissions/list",
    "agent/permissions/revoke",
]
FIELDS = {
    "agent/session/list": ["cursor", "limit", "query", "allWorkspaces", "workspace"],
    "agent/session/new": ["name", "workspace"],
    "agent/session/switch": ["sessionId"],
    "agent/session/resumeRecent": ["workspace"],
    "agent/session/history": ["sessionId", "before", "limit"],
    "agent/session/rename": ["sessionId", "name"],
    "agent/session/delete": ["sessionId"],
    "agent/session/fork": ["sessionId", "entryId"],
    "agent/session/prompt": ["sessionId", "prompt", "context", "workDoneToken"],
    "agent/checkpoint/list": ["sessionId"],
    "agent/checkpoint/diff": ["checkpointId", "uri"],
    "agent/checkpoint/restore": ["checkpointId", "scope", "dryRun", "force"],
    "agent/permissions/list": ["sessionId"],
    "agent/permissions/revoke": ["sessionId", "ruleId"],
    "agent/session/cancel": ["sessionId"],
}
ANSWER_WITHIN = 1.0
CASES_PER_METHOD = scaled(250)

# Values that mean something to the server, mixed with values that mean nothing.
HOSTILE_STRINGS = [
    "",
    " ",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "..",
    "%2e%2e%2fx",
    "x" * 65,
    "x\n",
    "\x00",
    "\udcff",
    "é" * 300,
    "file:///etc/passwd",
    "file:///nonexistent/%00",
    "s:e",
    "../a:b",
    "a:../b",
    ":",
    "files",
    "conversation",
    "both",
    "bm9wZQ",
    "W10",
    "WyJhIiwxXQ",
]
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_STRINGS),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
small_ints = st.sampled_from([-1, 0, 1, 2, 50, 1000, 1001, 2**31, 2**63])
blocks = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=30)}),
        st.fixed_dictionaries({"type": st.just("resource_link"), "uri": st.text(max_size=30)}),
        st.dictionaries(st.sampled_from(["type", "text", "uri"]), json_value, max_size=3),
    ),
    max_size=3,
)
context = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "uri": st.sampled_from(["file:///etc/hostname", "file:///nope", "x", ""]),
                "range": st.fixed_dictionaries(
                    {
                        "start": st.fixed_dictionaries(
                            {"line": small_ints, "character": small_ints}
                        ),
                        "end": st.fixed_dictionaries({"line": small_ints, "character": small_ints}),
                    }
                ),
            }
        ),
        json_value,
    ),
    max_size=2,
)


def field_value(name: str, known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Plausible values for a field (known ids, right types, wrong types, hostile strings)."""
    choices: list[st.SearchStrategy[Any]] = [json_value, st.sampled_from(HOSTILE_STRINGS)]
    if name in ("sessionId",):
        choices.append(st.sampled_from(known["sessions"]))
    if name in ("before", "entryId"):
        choices.append(st.sampled_from(known["entries"]))
    if name == "checkpointId":
        choices.append(st.sampled_from(known["checkpoints"]))
    if name == "ruleId":  # well-formed rule ids (none remembered: revoke answers false)
        choices.append(st.text("0123456789abcdef", min_size=16, max_size=16))
    if name in ("workspace",):
        choices.append(st.sampled_from(known["workspaces"]))
    if name in ("uri",):
        choices.append(st.sampled_from(known["uris"]))
    if name == "limit":
        choices.append(small_ints)
    if name == "prompt":
        choices += [st.text(max_size=30), blocks]
    if name == "context":
        choices.append(context)
    if name == "scope":
        choices.append(st.sampled_from(["files", "conversation", "both", "all"]))
    if name in ("dryRun", "force", "allWorkspaces"):
        choices.append(st.booleans())
    if name in ("name", "query", "cursor"):
        choices.append(st.text(max_size=250))
    return st.one_of(*choices)


def params_for(method: str, known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    fields = FIELDS[method]
    shaped = st.fixed_dictionaries(
        {},
        optional={f: field_value(f, known) for f in fields}
        | {"unknownField": json_value, "session_id": json_value},
    )
    return st.one_of(shaped, shaped, shaped, json_value)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, dict]]:
    """One server (scripted echo provider: turns are quick) with sessions, entries and a
    checkpoint for the fuzzer to aim at."""
    base = tmp_path_factory.mktemp("fuzz")
    workspace = base / "project"
    workspace.mkdir()
    (workspace / "a.txt").write_text("alpha\n")
    script = base / "script.json"
    script.write_text(
        '[{"content":[{"type":"tool_use","name":"write_file",'
        '"input":{"path":"a.txt","content":"beta\\n"}}]},'
        '{"content":[{"type":"text","text":"done"}]}]'
    )
    env = {"AGENT_LS_PROVIDER": "scripted", "AGENT_LS_SCRIPT": str(script)}
    with raw_server(base / "home", workspace, env) as server:
        first = server.call("agent/session/new", {"name": "target"})["result"]
        sid = first["sessionId"]
        turn = server.call("agent/session/prompt", {"sessionId": sid, "prompt": "edit"}, 30)
        checkpoint = turn["result"]["checkpointId"]
        items = server.call("agent/session/switch", {"sessionId": sid})["result"]["items"]
        other = server.call("agent/session/new", {})["result"]["sessionId"]
        known = {
            "sessions": [sid, other],
            "entries": [i["entryId"] for i in items],
            "checkpoints": [checkpoint, f"{sid}:zzzz", f"{other}:{items[0]['entryId']}"],
            "workspaces": [workspace.as_uri(), str(workspace), str(base)],
            "uris": [(workspace / "a.txt").as_uri(), (workspace / "missing").as_uri()],
        }
        stats: dict[str, Any] = {"cases": 0, "codes": Counter(), "slowest": 0.0}
        yield server, {"known": known, "stats": stats}
        assert server.alive(), server.stderr
        record("fuzz.cases", stats["cases"])
        record("fuzz.slowest_answer_ms", round(stats["slowest"] * 1000, 1))
        record("fuzz.outcomes", dict(sorted(stats["codes"].items())))


def send_and_check(server: RawServer, stats: dict[str, Any], method: str, params: Any) -> None:
    started = time.monotonic()
    msg_id = server.send(method, params)
    reply = server.wait(msg_id, ANSWER_WITHIN + 10)
    elapsed = time.monotonic() - started
    assert reply is not None, f"{method} {params!r}: no answer; server alive: {server.alive()}"
    assert elapsed < ANSWER_WITHIN, f"{method} {params!r}: answered after {elapsed:.2f}s"
    stats["cases"] += 1
    stats["slowest"] = max(stats["slowest"], elapsed)
    if "error" in reply:
        error = reply["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str)
        if error["code"] == -32603:
            assert error["message"].startswith(("session store:", "file system:")), (
                f"{method} {params!r}: internal error {error}"
            )
        stats["codes"][str(error["code"])] += 1
    else:
        assert "result" in reply, reply
        stats["codes"]["result"] += 1


@pytest.mark.parametrize("method", REQUESTS)
def test_every_request_answers_quickly(method: str, fuzz_target: tuple[RawServer, dict]) -> None:
    server, state = fuzz_target

    @settings(
        max_examples=CASES_PER_METHOD,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(params=params_for(method, state["known"]))
    def case(params: Any) -> None:
        send_and_check(server, state["stats"], method, params)

    case()
    assert server.alive(), server.stderr


def test_cancel_notification_never_hurts(fuzz_target: tuple[RawServer, dict]) -> None:
    server, state = fuzz_target

    @settings(
        max_examples=CASES_PER_METHOD // 2,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(params=params_for("agent/session/cancel", state["known"]))
    def case(params: Any) -> None:
        server.send("agent/session/cancel", params, notify=True)
        send_and_check(server, state["stats"], "agent/session/list", {"limit": 1})

    case()


def test_no_params_and_wrong_ids(fuzz_target: tuple[RawServer, dict]) -> None:
    """Requests with params absent, null, or an array; ids that are strings or huge numbers."""
    server, state = fuzz_target
    for method in REQUESTS:
        for params in (None, [], [1, 2], "x", 0):
            send_and_check(server, state["stats"], method, params)
    for msg_id in ("text-id", 2**62, -1, 0):
        server.write(frame({"jsonrpc": "2.0", "id": msg_id, "method": "agent/session/list"}))
        reply = server.wait(msg_id, 5)
        assert reply is not None and "result" in reply, msg_id
