"""HTTP side of the benchmark, on aiohttp (a cheaper client than httpx): account set-up, the
closed-loop login / history-page load, and session seeding for the capacity scenario."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import orjson
from redis.asyncio import Redis

COOKIE_NAME = "parley_session"  # PARLEY_COOKIE_SECURE=false
PASSWORD = "bench-password-1"


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        json_serialize=lambda value: orjson.dumps(value).decode(),
    )


async def register(http: aiohttp.ClientSession, url: str, username: str) -> None:
    body = {"username": username, "password": PASSWORD}
    async with http.post(f"{url}/api/auth/register", json=body) as response:
        if response.status not in (201, 409):
            raise RuntimeError(f"register {username}: {response.status} {await response.text()}")


async def login(http: aiohttp.ClientSession, url: str, username: str) -> str:
    body = {"username": username, "password": PASSWORD}
    async with http.post(f"{url}/api/auth/login", json=body) as response:
        if response.status != 200:
            raise RuntimeError(f"login {username}: {response.status} {await response.text()}")
        morsel = response.cookies.get(COOKIE_NAME)
        if morsel is None:
            raise RuntimeError(f"login {username}: no {COOKIE_NAME} cookie")
        return morsel.value


async def accounts(
    http: aiohttp.ClientSession, url: str, usernames: list[str], concurrency: int = 16
) -> list[str]:
    """Register and log in every user through the API; their session cookies, in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str) -> str:
        async with gate:
            await register(http, url, name)
            return await login(http, url, name)

    return list(await asyncio.gather(*(one(name) for name in usernames)))


async def create_room(http: aiohttp.ClientSession, url: str, cookie: str, name: str) -> str:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"}
    async with http.post(f"{url}/api/rooms", json={"name": name}, headers=headers) as response:
        if response.status not in (201, 409):
            raise RuntimeError(f"create room {name}: {response.status} {await response.text()}")
    return name


async def join_rooms(
    http: aiohttp.ClientSession, url: str, memberships: list[tuple[str, str]], concurrency: int = 16
) -> None:
    """Each (cookie, room): that user becomes a member of the public room through the API, as
    people who chat in a room are. Without it a user's first message joins the room, and the
    benchmark would measure a few hundred joins (a transaction each, which moto serves by
    copying every table) instead of messages."""
    gate = asyncio.Semaphore(concurrency)

    async def one(cookie: str, room: str) -> None:
        headers = {"Cookie": f"{COOKIE_NAME}={cookie}"}
        async with gate, http.post(f"{url}/api/rooms/{room}/join", headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"join {room}: {response.status} {await response.text()}")

    await asyncio.gather(*(one(cookie, room) for cookie, room in memberships))


async def seed_sessions(redis_url: str, usernames: list[str], count: int, ttl: int) -> list[str]:
    """`count` sessions written straight into Redis in the format of docs/reference.md
    (`sess:<SHA-256 hex of the cookie's secret>` holding JSON with "username", TTL =
    PARLEY_SESSION_TTL), cycling over `usernames`: the
    capacity scenario needs thousands of cookies, and login is measured on its own."""
    redis = Redis.from_url(redis_url)
    keys = [secrets.token_urlsafe(32) for _ in range(count)]
    created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    try:
        for start in range(0, count, 1000):
            async with redis.pipeline(transaction=False) as pipe:
                for i in range(start, min(start + 1000, count)):
                    name = usernames[i % len(usernames)]
                    value = orjson.dumps({"username": name, "createdAt": created})
                    digest = hashlib.sha256(keys[i].encode()).hexdigest()
                    pipe.set(f"sess:{digest}", value, ex=ttl)
                await pipe.execute()
    finally:
        await redis.aclose()
    return keys


@dataclass
class LoadResult:
    requests: int
    errors: Counter[str]
    seconds: float
    latency_us: array[int]


async def closed_loop(
    request: Callable[[int], Awaitable[int]], *, concurrency: int, duration: float
) -> LoadResult:
    """`concurrency` loops each sending the next request as soon as the last one answered,
    for `duration` seconds. `request(i)` returns the HTTP status."""
    latency = array("q")
    errors: Counter[str] = Counter()
    counter = iter(range(10**12))
    deadline = time.monotonic() + duration

    async def loop() -> None:
        while time.monotonic() < deadline:
            i = next(counter)
            t0 = time.monotonic_ns()
            try:
                status = await request(i)
            except Exception as exc:
                errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                continue
            latency.append((time.monotonic_ns() - t0) // 1000)
            if status >= 400:
                errors[f"HTTP {status}"] += 1

    t0 = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return LoadResult(len(latency), errors, time.monotonic() - t0, latency)
