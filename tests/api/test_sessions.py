"""A user's sessions: listed with their device and last use, ended one by one (everywhere,
their sockets told), and all but the current one ended by a password change; stored under the
hash of the cookie's secret, within an absolute lifetime."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import Connect, Person, Signup, StartApp
from tests.realtime.test_session_end import assert_kicked
from tests.servers import AppServer
from tests.utils import ORIGIN_SECRET, PASSWORD, login, redis_of, register, seen_from, sess_key

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def second(start_server: StartApp) -> AppServer:
    return start_server()  # same Redis database and tables as `app`


@pytest.fixture
async def devices(app: AppServer, username: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One account logged in from a laptop and a phone (two clients, two cookies)."""
    clients = [
        httpx.AsyncClient(base_url=app.url, headers={"User-Agent": agent}, timeout=20)
        for agent in ("Laptop/1.0 (X11; Linux)", "Phone/2.0 (Android 15)")
    ]
    await register(clients[0], username)
    for client in clients:
        await login(client, username)
    yield clients
    for client in clients:
        await client.aclose()


def cookie_of(client: httpx.AsyncClient) -> str:
    return client.cookies["parley_session"]


async def sessions_of(client: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await client.get("/api/auth/sessions")
    assert response.status_code == 200, response.text
    listed: list[dict[str, object]] = response.json()
    return listed


async def test_the_list_shows_each_session_and_marks_the_current_one(
    devices: list[httpx.AsyncClient],
) -> None:
    laptop, phone = devices
    listed = await sessions_of(laptop)
    assert len(listed) == 2
    by_agent = {entry["userAgent"]: entry for entry in listed}
    assert by_agent["Laptop/1.0 (X11; Linux)"]["current"] is True
    assert by_agent["Phone/2.0 (Android 15)"]["current"] is False
    for entry in listed:
        assert set(entry) == {"id", "createdAt", "lastSeenAt", "userAgent", "current"}
        assert ISO.match(str(entry["createdAt"]))
        assert ISO.match(str(entry["lastSeenAt"]))
    from_phone = await sessions_of(phone)
    assert {e["id"] for e in from_phone if e["current"]} == {
        by_agent["Phone/2.0 (Android 15)"]["id"]
    }


async def test_no_secret_is_shown_and_redis_holds_only_its_hash(
    devices: list[httpx.AsyncClient], redis: Redis, username: str
) -> None:
    laptop, _phone = devices
    body = (await laptop.get("/api/auth/sessions")).text
    for client in devices:
        secret = cookie_of(client)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in body
        assert digest not in body
        assert await redis.exists(f"sess:{secret}") == 0
        stored = await redis.get(sess_key(secret))
        assert stored is not None
        assert f'"username":"{username}"' in stored
        assert 1790 <= await redis.ttl(sess_key(secret)) <= 1800


async def test_ending_a_session_logs_it_out_everywhere(
    app: AppServer,
    second: AppServer,
    devices: list[httpx.AsyncClient],
    connect: Connect,
    redis: Redis,
    username: str,
) -> None:
    laptop, phone = devices
    phone_person = Person(username, cookie_of(phone))
    sockets = [await connect(phone_person), await connect(phone_person, second)]
    laptop_socket = await connect(Person(username, cookie_of(laptop)))
    [phone_entry] = [e for e in await sessions_of(laptop) if not e["current"]]

    response = await laptop.delete(f"/api/auth/sessions/{phone_entry['id']}")
    assert response.status_code == 204
    assert "set-cookie" not in response.headers  # the caller's own cookie stays
    for socket in sockets:
        await assert_kicked(socket)
    assert await redis.exists(sess_key(cookie_of(phone))) == 0
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert (await laptop.get("/api/auth/me")).status_code == 200
    assert [e["current"] for e in await sessions_of(laptop)] == [True]
    assert laptop_socket.drain("session_expired") == []
    assert (await laptop_socket.call("join", {"room": "general"}))["ok"] is True
    again = await laptop.delete(f"/api/auth/sessions/{phone_entry['id']}")
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


async def test_ending_the_current_session_is_a_logout(
    devices: list[httpx.AsyncClient],
) -> None:
    laptop, phone = devices
    [mine] = [e for e in await sessions_of(laptop) if e["current"]]
    response = await laptop.delete(f"/api/auth/sessions/{mine['id']}")
    assert response.status_code == 204
    assert "parley_session=" in response.headers["set-cookie"]
    assert (await laptop.get("/api/auth/me")).status_code == 401
    assert (await phone.get("/api/auth/me")).status_code == 200


@pytest.mark.parametrize("session_id", ["unknown", "x" * 64, "%00"])
async def test_an_unknown_id_is_404(devices: list[httpx.AsyncClient], session_id: str) -> None:
    response = await devices[0].delete(f"/api/auth/sessions/{session_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(await sessions_of(devices[0])) == 2


async def test_an_absurdly_long_id_is_422(devices: list[httpx.AsyncClient]) -> None:
    response = await devices[0].delete(f"/api/auth/sessions/{'x' * 5000}")
    assert (response.status_code, response.json()["code"]) == (422, "invalid")


async def test_another_users_session_is_404_and_stays(
    devices: list[httpx.AsyncClient], signup: Signup, app: AppServer
) -> None:
    other = await signup()
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": other.cookie}
    ) as theirs:
        [their_entry] = await sessions_of(theirs)
        response = await devices[0].delete(f"/api/auth/sessions/{their_entry['id']}")
        assert response.status_code == 404
        assert (await theirs.get("/api/auth/me")).status_code == 200
        assert all(e["id"] != their_entry["id"] for e in await sessions_of(devices[0]))


async def test_the_routes_need_a_session(http: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/auth/sessions"),
        ("DELETE", "/api/auth/sessions/anything"),
        ("POST", "/api/auth/password"),
    ]:
        response = await http.request(method, path, json={"current": PASSWORD, "new": NEW_PASSWORD})
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthorized"


async def test_a_password_change_ends_every_other_session(
    app: AppServer, devices: list[httpx.AsyncClient], connect: Connect, username: str
) -> None:
    laptop, phone = devices
    phone_socket = await connect(Person(username, cookie_of(phone)))
    response = await laptop.post(
        "/api/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}
    )
    assert response.status_code == 204
    await assert_kicked(phone_socket)
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert (await laptop.get("/api/auth/me")).status_code == 200
    assert [e["current"] for e in await sessions_of(laptop)] == [True]
    async with httpx.AsyncClient(base_url=app.url) as fresh:
        old = await fresh.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert old.status_code == 401
        assert await login(fresh, username, NEW_PASSWORD)


@pytest.mark.parametrize(
    "body",
    [
        {"current": PASSWORD, "new": "short"},
        {"current": PASSWORD, "new": "x" * 129},
        {"current": PASSWORD},
        {"current": "", "new": NEW_PASSWORD},
        {"current": PASSWORD, "new": NEW_PASSWORD, "extra": 1},
    ],
)
async def test_an_invalid_change_is_422_and_changes_nothing(
    devices: list[httpx.AsyncClient], body: dict[str, object]
) -> None:
    laptop, phone = devices
    response = await laptop.post("/api/auth/password", json=body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert (await phone.get("/api/auth/me")).status_code == 200


@pytest.fixture(scope="module")
def strict_app(start_server: StartApp) -> AppServer:
    """Two failed logins from one address make it wait; sessions last at most a minute."""
    return start_server(
        redis_db=3,
        PARLEY_LOGIN_FREE_FAILURES="2",
        # Long enough that no test outlasts the wait: nothing here depends on timing.
        PARLEY_LOGIN_DELAY_SECONDS="600",
        PARLEY_SESSION_MAX_AGE="60",
        PARLEY_CLIENT_IP_HEADER="X-Forwarded-For",
        PARLEY_ORIGIN_SECRET=ORIGIN_SECRET,
    )


async def test_a_wrong_current_password_is_403_and_counts_as_a_failed_login(
    strict_app: AppServer, username: str
) -> None:
    address = seen_from(f"198.51.100.{secrets.randbelow(250) + 1}")
    async with (
        httpx.AsyncClient(base_url=strict_app.url, headers=address) as laptop,
        httpx.AsyncClient(base_url=strict_app.url) as phone,
    ):
        await register(laptop, username)
        await login(laptop, username)
        await login(phone, username)
        for _ in range(2):
            response = await laptop.post(
                "/api/auth/password", json={"current": "not my password", "new": NEW_PASSWORD}
            )
            assert response.status_code == 403
            assert response.json() == {
                "error": "The current password is wrong",
                "code": "forbidden",
            }
        assert (await phone.get("/api/auth/me")).status_code == 200
        # That address now waits, even with the right password; the owner elsewhere does not.
        right = await laptop.post(
            "/api/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}
        )
        assert right.status_code == 429
        assert "retry-after" in right.headers
        held = await laptop.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert held.status_code == 429
        elsewhere = await phone.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert elsewhere.status_code == 200


async def test_a_session_never_outlives_its_absolute_lifetime(
    strict_app: AppServer, redis_service: object, username: str
) -> None:
    async with httpx.AsyncClient(base_url=strict_app.url) as http:
        await register(http, username)
        cookie = await login(http, username)
        redis = redis_of(strict_app.env)
        try:
            assert 0 < await redis.ttl(sess_key(cookie)) <= 60
            assert (await http.get("/api/auth/me")).status_code == 200
            assert 0 < await redis.ttl(sess_key(cookie)) <= 60  # PARLEY_SESSION_TTL is 1800
        finally:
            await redis.aclose()
