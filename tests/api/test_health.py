"""Liveness and readiness, including readiness with Redis gone."""

from __future__ import annotations

from pathlib import Path

import httpx

from parley.devstack.services import start_redis
from tests.servers import start_app


async def test_healthz_and_readyz(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_names_redis_when_it_is_gone(
    base_env: dict[str, str], tables: object, tmp_path: Path
) -> None:
    redis = start_redis(tmp_path / "redis", persist=False)
    env = {**base_env, "PARLEY_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
    server = start_app(env, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            assert (await http.get("/readyz")).status_code == 200
            redis.stop()
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert response.json()["failed"] == ["redis"]
            assert "redis" in response.json()["error"]
            assert response.json()["code"] == "unavailable"
            assert response.json()["retryAfter"] > 0
            assert (await http.get("/healthz")).status_code == 200
            http.cookies.set("parley_session", "abc")
            response = await http.get("/api/auth/me")
            assert response.status_code == 503
            assert response.json() == {
                "error": "Session store unavailable, try again shortly",
                "code": "unavailable",
                "retryAfter": 2,
            }
            assert response.headers["retry-after"] == "2"
    finally:
        server.stop()
        redis.stop()
