"""Every request gets an id, echoed in X-Request-ID and carried by its log lines."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parley.api.request_id import RequestIdMiddleware
from parley.logs import request_id


async def seen(_: Request) -> JSONResponse:
    return JSONResponse({"request_id": request_id.get()})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = RequestIdMiddleware(Starlette(routes=[Route("/", seen)]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_sane_caller_id_is_kept(http: httpx.AsyncClient) -> None:
    response = await http.get("/", headers={"x-request-id": "trace.42-A_b"})
    assert response.headers["x-request-id"] == "trace.42-A_b"
    assert response.json() == {"request_id": "trace.42-A_b"}


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "<script>"])
async def test_otherwise_a_new_id_is_made(http: httpx.AsyncClient, given: str | None) -> None:
    headers = {"x-request-id": given} if given is not None else {}
    response = await http.get("/", headers=headers)
    made = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert response.json() == {"request_id": made}


async def test_the_id_does_not_outlive_its_request(http: httpx.AsyncClient) -> None:
    await http.get("/", headers={"x-request-id": "one"})
    assert request_id.get() is None
