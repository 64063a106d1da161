"""Small factories the tests share."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from parley.container import open_redis
from parley.storage.redis_keys import RedisClient
from tests import redis_cluster

PASSWORD = "correct horse battery"


async def register(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    response = await http.post(
        "/api/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 201, response.text


async def post_as_a_client(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], attempts: int = 10
) -> httpx.Response:
    """POST, and wait out a `503 unavailable` for its `retryAfter` as every client is told to
    (DynamoDB slow beside a whole suite on two cores); any other answer is returned."""
    for _ in range(attempts - 1):
        response = await http.post(path, json=body)
        if response.status_code != 503:
            return response
        await asyncio.sleep(response.json()["retryAfter"])
    return await http.post(path, json=body)


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the session cookie's value (the client keeps the cookie too)."""
    body = {"username": username, "password": password}
    response = await post_as_a_client(http, "/api/auth/login", body)
    assert response.status_code == 200, response.text
    cookie = response.cookies.get("parley_session")
    assert cookie
    return cookie


async def register_and_login(http: httpx.AsyncClient, username: str) -> str:
    await register(http, username)
    return await login(http, username)


def on_redis_db(env: dict[str, str], db: int) -> dict[str, str]:
    """The environment of an app on the test Redis "database" `db`: a database number of the
    one redis-server, or in cluster mode a cluster of its own (tests/redis_cluster.py)."""
    if env.get("PARLEY_REDIS_CLUSTER") == "true":
        assert redis_cluster.databases is not None
        url = redis_cluster.databases.url(db)
    else:
        url = env["PARLEY_REDIS_URL"].rsplit("/", 1)[0] + f"/{db}"
    return {**env, "PARLEY_REDIS_URL": url}


def redis_of(env: dict[str, str]) -> RedisClient:
    """A client of the Redis an app with this environment uses (one node or a cluster), built
    as the app builds its own."""
    return open_redis(env["PARLEY_REDIS_URL"], cluster=env.get("PARLEY_REDIS_CLUSTER") == "true")


def sess_key(cookie: str) -> str:
    """The Redis key of the session whose cookie is `cookie`: `sess:` + the SHA-256 of it."""
    return f"sess:{hashlib.sha256(cookie.encode()).hexdigest()}"


# The client-address header (PARLEY_CLIENT_IP_HEADER=X-Forwarded-For in the tests that set it)
# counts only on requests from the trusted front, which proves itself with the origin secret.
ORIGIN_SECRET = "test-origin-secret"


def seen_from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, "X-Parley-Origin-Verify": ORIGIN_SECRET}
