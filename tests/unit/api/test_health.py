"""Liveness, readiness (Redis and DynamoDB answer) and the Prometheus metrics."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from tests.unit.api.conftest import client


async def test_healthz_and_readyz(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_readyz_names_what_does_not_answer(api_without_redis: ASGIApp) -> None:
    async with client(api_without_redis) as http:
        response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {
            "error": "redis not answering",
            "code": "unavailable",
            "retryAfter": 2,
            "failed": ["redis"],
        },
    )


async def test_metrics_are_prometheus_text(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    lines = response.text.splitlines()
    for name in ("parley_sockets_connected", "parley_messages_stored_total"):
        assert any(line.startswith(f"{name} ") for line in lines), name
