"""Registration, login, sessions in Redis (seed scenarios 1, 3 and 4), fixation, throttling."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import StartApp
from tests.servers import AppServer
from tests.utils import (
    ORIGIN_SECRET,
    PASSWORD,
    login,
    redis_of,
    register,
    register_and_login,
    seen_from,
    sess_key,
)

UNAUTHORIZED = {"error": "Unauthorized", "code": "unauthorized", "redirect": "/login"}


async def test_register_login_me_logout(http: httpx.AsyncClient, username: str) -> None:
    response = await http.post(
        "/api/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json() == {"username": username}

    response = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {"username": username}
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "path=/" in set_cookie

    assert (await http.get("/api/auth/me")).json() == {"username": username}

    response = await http.post("/api/auth/logout")
    assert response.status_code == 204
    assert (await http.get("/api/auth/me")).status_code == 401


async def test_names_are_unique_regardless_of_case_and_shown_as_registered(
    http: httpx.AsyncClient, username: str
) -> None:
    name = username.capitalize()
    await register(http, name)
    response = await http.post(
        "/api/auth/register", json={"username": name.upper(), "password": PASSWORD}
    )
    assert response.status_code == 409
    assert response.json() == {"error": "Username is already taken", "code": "conflict"}
    response = await http.post(
        "/api/auth/login", json={"username": name.lower(), "password": PASSWORD}
    )
    assert response.json() == {"username": name}


async def test_login_creates_session_key_with_ttl(
    http: httpx.AsyncClient, redis: Redis, username: str
) -> None:
    cookie = await register_and_login(http, username)
    assert len(cookie) >= 22  # at least 128 bits, url-safe base64
    stored = await redis.get(sess_key(cookie))
    assert stored is not None
    assert '"username":"' + username + '"' in stored
    ttl = await redis.ttl(sess_key(cookie))
    assert 1790 <= ttl <= 1800


async def test_each_request_slides_the_ttl(
    http: httpx.AsyncClient, redis: Redis, username: str
) -> None:
    cookie = await register_and_login(http, username)
    await redis.expire(sess_key(cookie), 100)
    assert (await http.get("/api/auth/me")).status_code == 200
    assert await redis.ttl(sess_key(cookie)) >= 1790


async def test_reload_keeps_you_logged_in(app: AppServer, username: str) -> None:
    async with httpx.AsyncClient(base_url=app.url) as first:
        cookie = await register_and_login(first, username)
    # A new client with only the cookie, as a reloaded page would be.
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": cookie}) as again:
        assert (await again.get("/api/auth/me")).json() == {"username": username}


async def test_logout_deletes_the_key_and_the_cookie_stops_working(
    app: AppServer, http: httpx.AsyncClient, redis: Redis, username: str
) -> None:
    cookie = await register_and_login(http, username)
    response = await http.post("/api/auth/logout")
    assert response.status_code == 204
    assert "parley_session=" in response.headers["set-cookie"]
    assert await redis.exists(sess_key(cookie)) == 0
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": cookie}) as stale:
        response = await stale.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


async def test_expired_session_answers_401_with_redirect(
    http: httpx.AsyncClient, redis: Redis, username: str
) -> None:
    cookie = await register_and_login(http, username)
    await redis.pexpire(sess_key(cookie), 300)
    await asyncio.sleep(0.6)
    response = await http.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


async def test_flushed_redis_logs_everyone_out(start_server: StartApp, username: str) -> None:
    server = start_server(redis_db=2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        await register_and_login(http, username)
        assert (await http.get("/api/rooms")).status_code == 200
        redis = redis_of(server.env)
        await redis.flushdb()
        await redis.aclose()
        for path in ("/api/auth/me", "/api/rooms", "/api/rooms/general/messages"):
            response = await http.get(path)
            assert response.status_code == 401
            assert response.json() == UNAUTHORIZED


async def test_every_protected_route_needs_a_session(http: httpx.AsyncClient) -> None:
    http.cookies.set("parley_session", "not-a-session")
    for method, path in [
        ("GET", "/api/auth/me"),
        ("GET", "/api/rooms"),
        ("POST", "/api/rooms"),
        ("GET", "/api/rooms/general/messages"),
    ]:
        response = await http.request(method, path, json={"name": "x"})
        assert response.status_code == 401, path
        assert response.json() == UNAUTHORIZED


async def test_login_issues_a_new_id_and_ends_the_presented_one(
    app: AppServer, redis: Redis, username: str
) -> None:
    await redis.set(sess_key("planted-by-attacker"), '{"username": "nobody"}')
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": "planted-by-attacker"}
    ) as http:
        await register(http, username)
        cookie = await login(http, username)
    assert cookie != "planted-by-attacker"
    assert await redis.exists(sess_key("planted-by-attacker")) == 0
    second = httpx.AsyncClient(base_url=app.url, cookies={"parley_session": cookie})
    async with second:
        assert await login(second, username) != cookie
    assert await redis.exists(sess_key(cookie)) == 0


async def test_unknown_user_and_wrong_password_look_the_same(
    http: httpx.AsyncClient, username: str
) -> None:
    await register(http, username)
    wrong = await http.post("/api/auth/login", json={"username": username, "password": "x" * 10})
    unknown = await http.post(
        "/api/auth/login", json={"username": username + "_nobody", "password": "x" * 10}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": "Invalid username or password", "code": "unauthorized"}
    )


async def test_passwords_longer_than_72_bytes_count_in_full(
    http: httpx.AsyncClient, username: str
) -> None:
    long_password = "é" * 40 + "tail-one"  # 88 bytes in UTF-8
    await register(http, username, long_password)
    assert await login(http, username, long_password)
    response = await http.post(
        "/api/auth/login",
        json={"username": username, "password": "é" * 40 + "tail-two"},
    )
    assert response.status_code == 401


async def test_concurrent_registrations_of_one_name_give_one_201(
    app: AppServer, username: str
) -> None:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/auth/register",
                    json={"username": variant, "password": PASSWORD},
                )
                for variant in [username, username.upper(), username.title()] * 4
            )
        )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 11


@pytest.fixture(scope="module")
def throttled_app(start_server: StartApp) -> AppServer:
    return start_server(
        redis_db=3,
        PARLEY_LOGIN_FREE_FAILURES="3",
        # Long enough that no attempt of a test outlasts it: nothing here depends on timing.
        PARLEY_LOGIN_DELAY_SECONDS="600",
        PARLEY_LOGIN_MAX_FAILURES_PER_ADDRESS="6",
        PARLEY_CLIENT_IP_HEADER="X-Forwarded-For",
        PARLEY_ORIGIN_SECRET=ORIGIN_SECRET,
    )


async def test_failed_logins_hold_back_that_address_but_never_lock_the_owner_out(
    throttled_app: AppServer, username: str
) -> None:
    # The rule that replaced the lock of an account (issue 14): failures from one address make
    # that address wait, even with the right password, while the owner elsewhere logs in.
    guesser = seen_from("10.0.0.1")
    async with httpx.AsyncClient(base_url=throttled_app.url) as http:
        await register(http, username)
        for _ in range(3):
            response = await http.post(
                "/api/auth/login",
                json={"username": username, "password": "wrong-password"},
                headers=guesser,
            )
            assert response.status_code == 401
        response = await http.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}, headers=guesser
        )
        assert response.status_code == 429
        retry_after = int(response.headers["retry-after"])
        assert 0 < retry_after <= 600
        assert response.json() == {
            "error": "Too many failed logins, try again later",
            "code": "rate_limited",
            "retryAfter": retry_after,
        }
        response = await http.post(
            "/api/auth/login",
            json={"username": username, "password": PASSWORD},
            headers=seen_from("10.0.1.1"),
        )
        assert response.status_code == 200


async def test_concurrent_wrong_logins_are_checked_only_as_often_as_allowed(
    throttled_app: AppServer, username: str
) -> None:
    address = seen_from("10.0.2.1")
    body = {"username": username, "password": "wrong-password"}
    async with httpx.AsyncClient(base_url=throttled_app.url, timeout=30) as http:
        await register(http, username)
        responses = await asyncio.gather(
            *(http.post("/api/auth/login", json=body, headers=address) for _ in range(12))
        )
    codes = sorted(response.status_code for response in responses)
    assert codes == [401] * 3 + [429] * 9


async def test_successful_logins_never_count(throttled_app: AppServer, username: str) -> None:
    async with httpx.AsyncClient(base_url=throttled_app.url) as http:
        await register(http, username)
        for _ in range(8):
            await login(http, username)


async def test_credential_stuffing_from_one_address_is_locked(
    throttled_app: AppServer, username: str
) -> None:
    address = seen_from("192.0.2.77")
    async with httpx.AsyncClient(base_url=throttled_app.url) as http:
        await register(http, username)
        for n in range(6):
            response = await http.post(
                "/api/auth/login",
                json={"username": f"{username}_{n}", "password": "stuffed-password"},
                headers=address,
            )
            assert response.status_code == 401
        response = await http.post(
            "/api/auth/login",
            json={"username": username, "password": PASSWORD},
            headers=address,
        )
        assert response.status_code == 429
        assert "retry-after" in response.headers


async def test_registrations_from_one_address_are_limited(
    start_server: StartApp, username: str
) -> None:
    server = start_server(
        redis_db=3,
        PARLEY_REGISTER_MAX_PER_ADDRESS="2",
        PARLEY_CLIENT_IP_HEADER="X-Forwarded-For",
        PARLEY_ORIGIN_SECRET=ORIGIN_SECRET,
    )
    address = seen_from("10.0.3.1")
    async with httpx.AsyncClient(base_url=server.url) as http:
        for n in range(2):
            body = {"username": f"{username}_{n}", "password": PASSWORD}
            response = await http.post("/api/auth/register", json=body, headers=address)
            assert response.status_code == 201
        body = {"username": f"{username}_2", "password": PASSWORD}
        response = await http.post("/api/auth/register", json=body, headers=address)
        assert response.status_code == 429
        retry_after = int(response.headers["retry-after"])
        assert 0 < retry_after <= 3600
        assert response.json() == {
            "error": "Too many registrations from your address, try again later",
            "code": "rate_limited",
            "retryAfter": retry_after,
        }
        other = seen_from("10.0.3.2")
        response = await http.post("/api/auth/register", json=body, headers=other)
        assert response.status_code == 201


async def test_a_common_password_is_refused(http: httpx.AsyncClient, username: str) -> None:
    response = await http.post(
        "/api/auth/register", json={"username": username, "password": "Password1"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "This password is one of the most common ones: choose another",
        "code": "invalid",
    }
    response = await http.post(
        "/api/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201  # nothing was stored
