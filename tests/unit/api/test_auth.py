"""Register, log in, who am I, log out: the routes of parley/api/auth.py in this process."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from tests.unit.support import new_name
from tests.utils import PASSWORD, sess_key


def credentials(name: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": name, "password": password}


async def test_register_log_in_and_ask_who_i_am(http: httpx.AsyncClient) -> None:
    name = new_name("Ada")
    registered = await http.post("/api/auth/register", json=credentials(name))
    assert (registered.status_code, registered.json()) == (201, {"username": name})
    login = await http.post("/api/auth/login", json=credentials(name.lower()))
    assert (login.status_code, login.json()) == (200, {"username": name})
    cookie = login.headers["set-cookie"].lower()
    assert cookie.startswith("parley_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    me = await http.get("/api/auth/me")
    assert (me.status_code, me.json()) == (200, {"username": name})


async def test_a_taken_name_is_409(http: httpx.AsyncClient) -> None:
    name = new_name("ada")
    await http.post("/api/auth/register", json=credentials(name))
    again = await http.post("/api/auth/register", json=credentials(name.upper()))
    assert (again.status_code, again.json()) == (
        409,
        {"error": "Username is already taken", "code": "conflict"},
    )


async def test_bad_credentials_are_401(http: httpx.AsyncClient, logged_in: str) -> None:
    http.cookies.clear()
    wrong = await http.post("/api/auth/login", json=credentials(logged_in, "wrong password"))
    unknown = await http.post("/api/auth/login", json=credentials(new_name("nobody")))
    for response in (wrong, unknown):
        assert (response.status_code, response.json()) == (
            401,
            {"error": "Invalid username or password", "code": "unauthorized"},
        )
        assert "set-cookie" not in response.headers


async def test_failures_past_the_free_ones_make_that_address_wait(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    for _ in range(5):  # PARLEY_LOGIN_FREE_FAILURES's default
        await http.post("/api/auth/login", json=credentials(logged_in, "wrong password"))
    held = await http.post("/api/auth/login", json=credentials(logged_in))
    assert (held.status_code, held.json()) == (
        429,
        {
            "error": "Too many failed logins, try again later",
            "code": "rate_limited",
            "retryAfter": held.json()["retryAfter"],
        },
    )
    assert 590 <= held.json()["retryAfter"] <= 600  # login_delay_seconds in these tests
    assert int(held.headers["retry-after"]) == held.json()["retryAfter"]


async def test_a_login_ends_the_session_it_was_presented_with(
    http: httpx.AsyncClient, logged_in: str, redis: Redis
) -> None:
    before = http.cookies["parley_session"]
    await http.post("/api/auth/login", json=credentials(logged_in))
    after = http.cookies["parley_session"]
    assert after != before
    assert not await redis.exists(sess_key(before))
    assert await redis.exists(sess_key(after))


async def test_logout_ends_the_session_and_clears_the_cookie(
    http: httpx.AsyncClient, logged_in: str, redis: Redis
) -> None:
    key = http.cookies["parley_session"]
    response = await http.post("/api/auth/logout")
    assert response.status_code == 204
    assert 'parley_session=""' in response.headers["set-cookie"]
    assert not await redis.exists(sess_key(key))
    http.cookies.set("parley_session", key)
    assert (await http.get("/api/auth/me")).status_code == 401


async def test_logout_without_a_session_is_fine(http: httpx.AsyncClient) -> None:
    assert (await http.post("/api/auth/logout")).status_code == 204
