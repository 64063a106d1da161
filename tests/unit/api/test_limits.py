"""Request bodies at the edge: JSON only, and at most MAX_BODY_BYTES, chunked or not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parley.api.limits import BodyLimitMiddleware

LIMIT = 1024


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"method": request.method, "bytes": len(body)})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route("/", echo, methods=["GET", "POST", "PUT", "DELETE"])])
    limited = BodyLimitMiddleware(app, max_bytes=LIMIT)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, total, size):
        yield b" " * min(size, total - start)


async def test_a_small_json_body_passes(http: httpx.AsyncClient) -> None:
    response = await http.post("/", content=b"{}" + b" " * 100, headers=json_type())
    assert response.json() == {"method": "POST", "bytes": 102}


async def test_a_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/", content=b" " * (LIMIT + 1), headers=json_type())
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large (limit 1 KiB)", "code": "too_large"}


async def test_a_chunked_body_is_passed_whole(http: httpx.AsyncClient) -> None:
    response = await http.put("/", content=chunks(LIMIT), headers=json_type())
    assert response.json() == {"method": "PUT", "bytes": LIMIT}


async def test_a_chunked_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/", content=chunks(LIMIT * 4), headers=json_type())
    assert response.status_code == 413


async def test_a_bad_content_length_is_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/", content=b"{}", headers={**json_type(), "content-length": "x"})
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_body_that_is_not_json_is_415(http: httpx.AsyncClient, content_type: str) -> None:
    response = await http.post("/", content=b"a=1", headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.json() == {
        "error": "Send JSON, with Content-Type: application/json",
        "code": "unsupported",
    }


async def test_json_with_parameters_passes(http: httpx.AsyncClient) -> None:
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    assert (await http.post("/", content=b"{}", headers=headers)).status_code == 200


async def test_no_body_needs_no_content_type(http: httpx.AsyncClient) -> None:
    assert (await http.post("/")).json() == {"method": "POST", "bytes": 0}


async def test_methods_without_a_body_are_not_checked(http: httpx.AsyncClient) -> None:
    assert (await http.get("/")).status_code == 200
    assert (await http.delete("/")).status_code == 200


def json_type() -> dict[str, str]:
    return {"content-type": "application/json"}
