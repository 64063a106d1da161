"""CSRF refusal on cookie-authenticated state changes, and security headers everywhere."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import StartApp
from tests.servers import AppServer
from tests.utils import PASSWORD, register, register_and_login


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}],
)
async def test_cross_site_state_changes_are_refused(
    http: httpx.AsyncClient, username: str, headers: dict[str, str]
) -> None:
    await register_and_login(http, username)
    for path, body in [("/api/rooms", {"name": "csrf room"}), ("/api/auth/logout", None)]:
        response = await http.post(path, json=body, headers=headers)
        assert response.status_code == 403, path
        assert response.json() == {"error": "Cross-site request refused", "code": "forbidden"}
    assert (await http.get("/api/auth/me")).status_code == 200


async def test_same_origin_state_changes_pass(
    app: AppServer, http: httpx.AsyncClient, username: str
) -> None:
    await register_and_login(http, username)
    response = await http.post("/api/auth/logout", headers={"Origin": app.url})
    assert response.status_code == 204


async def test_security_headers_on_every_response(http: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/api/auth/me", "/api/nothing"):
        headers = (await http.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"


async def test_socket_io_answers_carry_the_security_headers_too(http: httpx.AsyncClient) -> None:
    handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    bad = await http.get("/socket.io/", params={"EIO": "4", "transport": "nope"})
    for headers in (handshake.headers, bad.headers):
        assert headers.get_list("x-frame-options") == ["DENY"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


async def test_api_answers_are_not_stored(http: httpx.AsyncClient, username: str) -> None:
    answers = [await http.get("/api/rooms")]  # 401
    await register_and_login(http, username)
    answers += [
        await http.get("/api/rooms"),
        await http.get("/api/rooms/general/messages"),
        await http.get("/api/nothing"),
        await http.post("/api/rooms", json={"name": ""}),
    ]
    assert [r.status_code for r in answers] == [401, 200, 200, 404, 422]
    for response in answers:
        assert response.headers.get_list("cache-control") == ["no-store"]


async def test_oversized_bodies_get_413(http: httpx.AsyncClient) -> None:
    big = {"username": "x" * (2 * 1024 * 1024), "password": "whatever-it-is"}
    response = await http.post("/api/auth/register", json=big)
    assert response.status_code == 413
    assert response.json() == {
        "error": "Request body too large (limit 64 KiB)",
        "code": "too_large",
    }


async def test_oversized_chunked_bodies_get_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'", "password": "whatever-it-is"}'

    response = await http.post(
        "/api/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_bodies_that_are_not_json_get_415(http: httpx.AsyncClient, content_type: str) -> None:
    response = await http.post(
        "/api/auth/login",
        content=b"username=a&password=b",
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert response.json() == {
        "error": "Send JSON, with Content-Type: application/json",
        "code": "unsupported",
    }


async def test_production_cookie_is_host_prefixed_and_secure(
    start_server: StartApp, username: str
) -> None:
    server = start_server(PARLEY_COOKIE_SECURE="true")
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register(http, username)
        response = await http.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-parley_session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie


async def test_the_front_end_gets_the_security_headers(http: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/rooms/general"):
        response = await http.get(path)
        assert response.status_code == 200
        assert "<div id=" in response.text
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_unknown_user_and_wrong_password_take_similar_time(
    start_server: StartApp, username: str
) -> None:
    """Username enumeration by timing (OWASP Authentication Cheat Sheet): an unknown name
    still costs a bcrypt check. Costly rounds make bcrypt dominate; the bound is loose."""
    server = start_server(PARLEY_BCRYPT_ROUNDS="10")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await register(http, username)

        async def median_seconds(name: str) -> float:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                response = await http.post(
                    "/api/auth/login", json={"username": name, "password": "not-the-password"}
                )
                times.append(time.perf_counter() - started)
                assert response.status_code == 401
                await http.post(
                    "/api/auth/login", json={"username": username, "password": PASSWORD}
                )
            return statistics.median(times)

        known = await median_seconds(username)
        unknown = await median_seconds(username + "_nobody")
    assert 0.5 < unknown / known < 2.0, (known, unknown)
