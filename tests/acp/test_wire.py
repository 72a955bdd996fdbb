"""The wire itself: initialize, bad lines and bad requests (each answered, nothing lost),
$/cancel_request, and a client without an API key."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from tests.acp.harness import raw
from tests.fakes.anthropic_server import FakeAnthropic

INIT = {"protocolVersion": 1, "clientCapabilities": {"fs": {"readTextFile": False}}}


async def test_initialize_advertises_sessions_extensions_and_the_key_method(home: Path) -> None:
    async with raw(home) as agent:
        reply = await agent.call("initialize", INIT)
        result = reply["result"]
        assert result["protocolVersion"] == 1
        caps = result["agentCapabilities"]
        assert caps["loadSession"] is True
        assert caps["promptCapabilities"] == {"embeddedContext": True, "image": True}
        assert caps["mcpCapabilities"] == {"http": True, "sse": True}
        assert set(caps["sessionCapabilities"]) == {"list", "delete", "fork", "resume", "close"}
        assert "_agent-ls/checkpoint/restore" in caps["_meta"]["agent-ls"]["methods"]
        assert result["agentInfo"]["name"] == "agent-ls"
        (method,) = result["authMethods"]
        assert method["type"] == "env_var" and method["vars"][0]["name"] == "ANTHROPIC_API_KEY"
        new = await agent.call("session/new", {"cwd": str(home), "mcpServers": []})
        assert new["error"]["code"] == -32000
        assert "ANTHROPIC_API_KEY" in new["error"]["data"]["message"]
        auth = await agent.call("authenticate", {"methodId": "anthropic-api-key"})
        assert auth["error"]["code"] == -32000


async def test_every_bad_message_is_answered_and_nothing_is_lost(
    workspace: Path, home: Path, env: dict[str, str]
) -> None:
    async with raw(home, env=env) as agent:
        await agent.call("initialize", INIT)
        await agent.send("this is not json")
        assert (await agent.read())["error"]["code"] == -32700
        await agent.send("[1, 2]")
        assert (await agent.read())["error"]["code"] == -32600
        await agent.send('{"jsonrpc": "2.0", "id": 7}')
        assert (await agent.read()) == {
            "jsonrpc": "2.0",
            "id": 7,
            "error": {
                "code": -32600,
                "message": "Invalid request: a message needs a method, or an id with a result",
            },
        }
        await agent.send('{"jsonrpc": "2.0", "id": 8, "method": 5}')
        assert (await agent.read())["error"]["code"] == -32600
        assert (await agent.call("no/such/method", {}))["error"]["code"] == -32601
        assert (await agent.call("_agent-ls/nothing", {}))["error"]["code"] == -32601
        bad = [
            ("session/new", {"cwd": 5}),
            ("session/new", {"cwd": "relative/path", "mcpServers": []}),
            ("session/new", {"cwd": str(workspace / "missing"), "mcpServers": []}),
            ("session/new", None),
            ("session/prompt", {"sessionId": "x"}),
            ("session/list", {"cwd": "relative"}),
            ("session/set_mode", {"sessionId": "x"}),
            ("session/load", {"sessionId": "../../etc", "cwd": str(workspace), "mcpServers": []}),
            ("_agent-ls/checkpoint/list", {}),
        ]
        for method, params in bad:
            reply = await agent.call(method, params)
            assert reply["error"]["code"] == -32602, (method, reply)
        missing = await agent.call("session/prompt", {"sessionId": "x", "prompt": []})
        assert missing["error"]["code"] == -32002
        new = await agent.call("session/new", {"cwd": str(workspace), "mcpServers": []})
        sid = new["result"]["sessionId"]
        empty = await agent.call("session/prompt", {"sessionId": sid, "prompt": []})
        assert empty["error"]["code"] == -32602
        bmp = {"type": "image", "data": "AAAA", "mimeType": "image/bmp"}
        refused = await agent.call("session/prompt", {"sessionId": sid, "prompt": [bmp]})
        assert refused["error"]["code"] == -32602
        assert "image/png" in refused["error"]["message"]
        text = {"type": "text", "text": "still here?"}
        reply = await agent.call("session/prompt", {"sessionId": sid, "prompt": [text]})
        assert reply["result"]["stopReason"] == "end_turn"


async def test_a_pasted_image_reaches_the_model_as_an_image_block(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue({"content": [{"type": "text", "text": "a red square"}]})
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    async with raw(home, env=env) as agent:
        await agent.call("initialize", INIT)
        sid = (await agent.call("session/new", {"cwd": str(workspace), "mcpServers": []}))[
            "result"
        ]["sessionId"]
        prompt = [
            {"type": "text", "text": "what is this?"},
            {"type": "image", "data": png, "mimeType": "image/png"},
        ]
        reply = await agent.call("session/prompt", {"sessionId": sid, "prompt": prompt})
        assert reply["result"]["stopReason"] == "end_turn", reply
    (request,) = api.requests
    blocks = request["body"]["messages"][0]["content"]
    image = {"type": "base64", "media_type": "image/png", "data": png}
    assert [b["source"] for b in blocks if b["type"] == "image"] == [image]


async def test_cancel_request_ends_a_prompt_as_cancelled(
    api: FakeAnthropic, workspace: Path, home: Path, env: dict[str, str]
) -> None:
    api.enqueue(
        {"content": [{"type": "text", "text": "slow " * 200}], "chunk_size": 5, "delay_ms": 20}
    )
    async with raw(home, env=env) as agent:
        await agent.call("initialize", INIT)
        sid = (await agent.call("session/new", {"cwd": str(workspace), "mcpServers": []}))[
            "result"
        ]["sessionId"]
        prompt = {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}
        await agent.send(
            {"jsonrpc": "2.0", "id": "p1", "method": "session/prompt", "params": prompt}
        )
        while (await agent.read()).get("params", {}).get("update", {}).get(
            "sessionUpdate"
        ) != "agent_message_chunk":
            pass
        await agent.send(
            {"jsonrpc": "2.0", "method": "$/cancel_request", "params": {"requestId": "p1"}}
        )
        reply = await agent.reply("p1")
        assert reply.get("result", {}).get("stopReason") == "cancelled", reply
        slow = asyncio.ensure_future(agent.call("session/list", {"cwd": str(workspace)}))
        assert "sessions" in (await slow)["result"]
