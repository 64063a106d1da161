"""Metrics, structured logs with request ids, secrets kept out of logs, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal

import httpx
import pytest

from parley.realtime.limits import MAX_EVENTS_IN_FLIGHT
from parley.storage.sessions import session_ref
from tests.conftest import Connect, Signup, StartApp
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import PASSWORD, login, register_and_login


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


async def test_metrics_count_sockets_and_messages(
    app: AppServer, signup: Signup, connect: Connect
) -> None:
    async with httpx.AsyncClient(base_url=app.url) as http:
        before = (await http.get("/metrics")).text
        client = await connect(await signup())
        await client.join()
        assert (await client.send("counted"))["ok"]
        response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    assert metric(after, "parley_sockets_connected") >= 1
    stored = "parley_messages_stored_total"
    assert metric(after, stored) == metric(before, stored) + 1
    assert metric(after, 'parley_messages_broadcast_total{source="app"}') >= 1
    assert metric(after, "parley_send_seconds_count") >= 1
    assert "parley_delivery_seconds_bucket" in after
    assert "parley_stream_lag_seconds" in after


async def test_logs_are_json_with_request_ids_and_no_secrets(app: AppServer, username: str) -> None:
    wrong_password = f"not-{secrets.token_hex(8)}"
    async with httpx.AsyncClient(base_url=app.url) as http:
        cookie = await register_and_login(http, username)
        failed = await http.post(
            "/api/auth/login", json={"username": username, "password": wrong_password}
        )
        assert failed.status_code == 401
        await login(http, username)
        cookie_logged_out = http.cookies["parley_session"]
        assert (await http.post("/api/auth/logout")).status_code == 204
        cookie_kept = await login(http, username)
        response = await http.get("/api/auth/me", headers={"X-Request-ID": "trace-me-42"})
        assert response.headers["x-request-id"] == "trace-me-42"
        generated = (await http.get("/healthz")).headers["x-request-id"]
        assert len(generated) == 32
        hostile = await http.get("/healthz", headers={"X-Request-ID": "<script>" * 20})
        assert hostile.headers["x-request-id"] != "<script>" * 20
    await asyncio.sleep(0.2)
    output = app.output()
    lines = [line for line in output.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e.get("request_id") == "trace-me-42" for e in entries)
    # Security events, as structured lines (docs/reference.md, "Login throttling").
    ended = session_ref(cookie_logged_out)
    events = [
        e["event"] for e in entries if username == e.get("username") or ended == e.get("session")
    ]
    for event in ("registered", "logged_in", "login_failed", "logged_out"):
        assert event in events, event
    for secret in (PASSWORD, wrong_password, cookie, cookie_logged_out, cookie_kept):
        assert secret not in output


async def test_sigterm_drains_sends_and_loses_nothing_acked(
    start_server: StartApp, app: AppServer, signup: Signup
) -> None:
    doomed = start_server()
    person = await signup(app)
    room = f"drain-{secrets.token_hex(3)}"
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": person.cookie}) as h:
        assert (await h.post("/api/rooms", json={"name": room})).status_code == 201
    client = ChatClient(doomed, person.cookie)
    await client.connect()
    await client.join(room)
    # Fewer than a socket may have in flight (MAX_EVENTS_IN_FLIGHT): none is refused for that.
    client_ids = [f"drain-{i}" for i in range(MAX_EVENTS_IN_FLIGHT - 2)]

    async def send(client_id: str) -> dict[str, object] | None:
        try:
            ack: dict[str, object] = await client.send(client_id, room, client_id=client_id)
        except Exception:  # the connection went away before the ack: not acked
            return None
        return ack

    sends = [asyncio.create_task(send(cid)) for cid in client_ids]
    # SIGTERM once the first send is acked, so the shutdown lands while the rest are in flight
    # whatever the machine's speed.
    pending: set[asyncio.Task[dict[str, object] | None]] = set(sends)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if any((task.result() or {}).get("ok") for task in done):
            break
    doomed.signal(signal.SIGTERM)
    acks = await asyncio.gather(*sends)
    assert doomed.process.wait(30) == 0
    await asyncio.wait_for(client.disconnected.wait(), 5)
    acked = {a["message"]["clientId"] for a in acks if a and a.get("ok")}  # type: ignore[index]
    assert acked, "no send was acked before the shutdown"

    # The client reconnects elsewhere and retries whatever was not acked, same clientIds.
    retry = ChatClient(app, person.cookie)
    await retry.connect()
    try:
        await retry.join(room)
        for client_id in client_ids:
            if client_id not in acked:
                assert (await retry.send(client_id, room, client_id=client_id))["ok"]
    finally:
        await retry.close()
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": person.cookie}) as h:
        body = (await h.get(f"/api/rooms/{room}/messages?limit=100")).json()
    stored = [m["clientId"] for m in body["messages"]]
    assert sorted(stored) == sorted(client_ids)  # all of them, each exactly once
    print(f"acked before shutdown: {len(acked)}, retried after: {len(client_ids) - len(acked)}")


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_probe_routes_need_no_session(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 200
