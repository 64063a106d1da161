"""DynamoDB stops answering: sends are acked ok:false and nothing is broadcast; once it is back,
a retry with the same clientId stores the message once."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx

from parley.devstack.services import http_url, start_dynamodb
from tests.realtime.client import ChatClient
from tests.servers import start_app
from tests.utils import register_and_login


async def test_dynamodb_down_means_ok_false_and_no_broadcast(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    dynamodb = start_dynamodb(tmp_path / "ddb")
    env = {
        **base_env,
        "PARLEY_DYNAMODB_ENDPOINT": http_url(dynamodb),
        "PARLEY_TABLE_PREFIX": f"outage-{secrets.token_hex(3)}-",
        "AWS_ACCESS_KEY_ID": "parley-test",
        "AWS_SECRET_ACCESS_KEY": "parley-test",
    }
    from parley.cli import _create_tables
    from tests.conftest import settings_for

    await _create_tables(settings_for(env))
    server = start_app(env, tmp_path)
    clients: list[ChatClient] = []
    try:
        for _ in range(2):
            async with httpx.AsyncClient(base_url=server.url) as http:
                cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
            client = ChatClient(server, cookie)
            await client.connect()
            await client.join()
            clients.append(client)
        sender, reader = clients

        dynamodb.stop()
        ack = await sender.send("lost?", client_id="outage-1")
        assert ack["ok"] is False
        assert "database" in ack["error"].lower()
        assert (ack["code"], ack["retryAfter"]) == ("unavailable", 2)
        await asyncio.sleep(0.5)
        assert reader.drain("message") == []
        async with httpx.AsyncClient(base_url=server.url) as http:
            http.cookies.set("parley_session", sender.cookie or "")
            response = await http.get("/api/rooms/general/messages")
            assert response.status_code == 503
            assert response.json() == {
                "error": "Database unavailable, try again shortly",
                "code": "unavailable",
                "retryAfter": 2,
            }
            assert (await http.get("/readyz")).json()["failed"] == ["dynamodb"]

        dynamodb = start_dynamodb(tmp_path / "ddb", port=dynamodb.port)
        ack = await sender.send("lost?", client_id="outage-1")
        assert ack["ok"] is True
        assert await reader.next("message") == ack["message"]
        again = await sender.send("lost?", client_id="outage-1")
        assert again == ack
        async with httpx.AsyncClient(base_url=server.url) as http:
            http.cookies.set("parley_session", sender.cookie or "")
            history = (await http.get("/api/rooms/general/messages")).json()["messages"]
        assert [m["text"] for m in history] == ["lost?"]
    finally:
        for client in clients:
            await client.close()
        server.stop()
        dynamodb.stop()
