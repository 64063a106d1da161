"""Small factories the tests share."""

from __future__ import annotations

import hashlib

import httpx

PASSWORD = "correct horse battery"


async def register(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    response = await http.post(
        "/api/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 201, response.text


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the session cookie's value (the client keeps the cookie too)."""
    body = {"username": username, "password": password}
    response = await http.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    cookie = response.cookies.get("parley_session")
    assert cookie
    return cookie


async def register_and_login(http: httpx.AsyncClient, username: str) -> str:
    await register(http, username)
    return await login(http, username)


def sess_key(cookie: str) -> str:
    """The Redis key of the session whose cookie is `cookie`: `sess:` + the SHA-256 of it."""
    return f"sess:{hashlib.sha256(cookie.encode()).hexdigest()}"


# The client-address header (PARLEY_CLIENT_IP_HEADER=X-Forwarded-For in the tests that set it)
# counts only on requests from the trusted front, which proves itself with the origin secret.
ORIGIN_SECRET = "test-origin-secret"


def seen_from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, "X-Parley-Origin-Verify": ORIGIN_SECRET}
