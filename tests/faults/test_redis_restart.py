"""Redis restarts mid-traffic: the app recovers by itself, answers 503 JSON (never 500) while
Redis is gone, and sessions survive because the local Redis persists (append-only file)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
from redis.asyncio import Redis

from parley.devstack.services import start_redis
from parley.realtime.bus import bus_channel
from parley.realtime.channels import socketio_channel
from tests.realtime.client import ChatClient
from tests.servers import start_app
from tests.utils import register_and_login


async def wait_ready(http: httpx.AsyncClient, status: int, seconds: float = 20) -> None:
    for _ in range(int(seconds * 10)):
        if (await http.get("/readyz")).status_code == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}")


async def test_redis_restart_is_survived(
    base_env: dict[str, str], tables: object, tmp_path: Path
) -> None:
    redis = start_redis(tmp_path / "redis")
    # One node restarting, also under `make test-cluster` (test_redis_failover.py is the
    # cluster's counterpart).
    env = {"PARLEY_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0", "PARLEY_REDIS_CLUSTER": "false"}
    server = start_app({**base_env, **env}, tmp_path)
    client: ChatClient | None = None
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
            client = ChatClient(server, cookie)
            await client.connect()
            await client.join()
            assert (await client.send("before", client_id="r-1"))["ok"]

            redis.stop()
            await wait_ready(http, 503)
            assert (await http.get("/readyz")).json()["failed"] == ["redis"]
            for method, path in [
                ("GET", "/api/auth/me"),
                ("GET", "/api/rooms"),
                ("POST", "/api/auth/logout"),
            ]:
                response = await http.request(method, path)
                assert response.status_code == 503, path
                assert response.json() == {
                    "error": "Session store unavailable, try again shortly",
                    "code": "unavailable",
                    "retryAfter": 2,
                }
                assert response.headers["retry-after"] == "2"
            ack = await client.send("during", client_id="r-2")
            assert ack["ok"] is False
            assert "unavailable" in ack["error"]
            assert (ack["code"], ack["retryAfter"]) == ("unavailable", 2)

            redis = start_redis(tmp_path / "redis", port=redis.port)
            await wait_ready(http, 200)
            assert (await http.get("/api/auth/me")).status_code == 200  # the session survived
            assert (await client.send("during", client_id="r-2"))["ok"] is True
            fresh = ChatClient(server, cookie)
            await fresh.connect()
            history = await fresh.join()
            await fresh.close()
            assert [m["clientId"] for m in history][-2:] == ["r-1", "r-2"]
            # Every failure was one the app expected: no 500 and no failed event handler.
            output = server.output()
            assert '"message": "unhandled error"' not in output
            assert '"message": "event failed"' not in output
    finally:
        if client is not None:
            await client.close()
        server.stop()
        redis.stop()


async def test_instances_hear_each_other_again_after_a_redis_restart(
    base_env: dict[str, str], tables: object, tmp_path: Path
) -> None:
    """Each instance subscribes its channels again once Redis is back (parley/realtime/bus.py),
    so a broadcast of one reaches the sockets of the other."""
    redis = start_redis(tmp_path / "redis")
    env = {
        **base_env,
        "PARLEY_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "PARLEY_REDIS_CLUSTER": "false",
        # No stream consumer: it would broadcast the other suites' messages of the shared
        # tables (their delivered marks are in another Redis).
        "PARLEY_STREAM_CONSUMER": "false",
    }
    one, two = start_app(env, tmp_path), start_app(env, tmp_path)
    clients: list[ChatClient] = []
    try:
        for server in (one, two):
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
                cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
            clients.append(ChatClient(server, cookie))
        a, b = clients
        for client in clients:
            await client.connect()
            await client.join()
        base = socketio_channel(env["PARLEY_REDIS_URL"], env["PARLEY_TABLE_PREFIX"])
        channel = bus_channel(base, "room:general")

        redis.stop()
        redis = start_redis(tmp_path / "redis", port=redis.port)
        async with Redis(port=redis.port) as client:
            for _ in range(200):  # both instances subscribed again
                counts = await client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
                if int(counts[1]) == 2:
                    break
                await asyncio.sleep(0.1)
        b.drain("message")
        for _ in range(100):  # the send gate answers once the app sees Redis again
            ack = await a.send("after the restart")
            if ack["ok"]:
                break
            await asyncio.sleep(0.2)
        assert ack["ok"], ack
        assert await b.next("message") == ack["message"]
        assert '"message": "bus resubscribed' in two.output()
    finally:
        for client in clients:
            await client.close()
        one.stop()
        two.stop()
        redis.stop()
