"""Every /api/ route but the public ones needs a live session, checked before anything else."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import ASGIApp

from parley.api.session_gate import PUBLIC_API_PATHS, is_protected
from tests.unit.api.conftest import client

UNAUTHORIZED = {"error": "Unauthorized", "code": "unauthorized", "redirect": "/login"}


@pytest.mark.parametrize(
    ("path", "protected"),
    [
        ("/api/rooms", True),
        ("/api/auth/me", True),
        ("/api/anything/else", True),
        ("/api/auth/login", False),
        ("/api/openapi.json", False),
        ("/healthz", False),
        ("/rooms/general", False),
    ],
)
def test_is_protected(path: str, protected: bool) -> None:
    assert is_protected(path) is protected


@pytest.mark.parametrize("cookie", [None, "unknown-key"])
async def test_no_live_session_is_401_before_the_body_is_read(
    http: httpx.AsyncClient, cookie: str | None
) -> None:
    if cookie:
        http.cookies.set("parley_session", cookie)
    for request in (
        http.get("/api/rooms"),
        http.get("/api/auth/me"),
        http.post("/api/rooms", content=b"not even json"),
        http.get("/api/nothing-here"),
    ):
        response = await request
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_public_routes_pass_without_a_session(http: httpx.AsyncClient) -> None:
    assert "/api/auth/register" in PUBLIC_API_PATHS
    response = await http.post("/api/auth/register", json={})
    assert response.status_code == 422
    assert (await http.get("/api/openapi.json")).status_code == 200


async def test_redis_away_is_503(api_without_redis: ASGIApp) -> None:
    async with client(api_without_redis) as http:
        http.cookies.set("parley_session", "some-key")
        response = await http.get("/api/rooms")
        assert (response.status_code, response.json()) == (
            503,
            {
                "error": "Session store unavailable, try again shortly",
                "code": "unavailable",
                "retryAfter": 2,
            },
        )
        metrics = (await http.get("/metrics")).text
    assert 'parley_backend_errors_total{backend="redis"} 1.0' in metrics
