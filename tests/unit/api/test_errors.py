"""Every error leaves as JSON `{"error": ...}`, never a traceback: the handlers installed on a
small app of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError

from parley.api.errors import Unauthorized, install_error_handlers
from parley.errors import ErrorCode, Refused
from parley.storage.dynamo import StorageUnavailable


class Body(BaseModel):
    name: str
    size: int


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/teapot")
    async def teapot() -> None:
        raise Refused(ErrorCode.RATE_LIMITED, "Slow down", retry_after=1.5)

    @app.get("/private")
    async def private() -> None:
        raise Unauthorized

    @app.get("/redis")
    async def redis_down() -> None:
        raise RedisConnectionError("connection refused")

    @app.get("/dynamodb")
    async def dynamodb_down() -> None:
        raise StorageUnavailable("DynamoDB: timeout")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("secret detail")

    @app.post("/things")
    async def things(body: Body) -> Body:
        return body

    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_refusal_leaves_with_its_code_and_retry_after(http: httpx.AsyncClient) -> None:
    response = await http.get("/teapot")
    assert (response.status_code, response.json()) == (
        429,
        {"error": "Slow down", "code": "rate_limited", "retryAfter": 1.5},
    )
    assert response.headers["retry-after"] == "2"  # whole seconds (RFC 9110, 10.2.3)


async def test_unauthorized_redirects_to_login(http: httpx.AsyncClient) -> None:
    response = await http.get("/private")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "redirect": "/login",
    }


async def test_backends_away_are_503(http: httpx.AsyncClient) -> None:
    redis = await http.get("/redis")
    dynamodb = await http.get("/dynamodb")
    assert (redis.status_code, dynamodb.status_code) == (503, 503)
    assert redis.json() == {
        "error": "Session store unavailable, try again shortly",
        "code": "unavailable",
        "retryAfter": 2,
    }
    assert dynamodb.json() == {
        "error": "Database unavailable, try again shortly",
        "code": "unavailable",
        "retryAfter": 2,
    }


async def test_a_bug_is_a_500_without_its_details(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.get("/bug")
    assert (response.status_code, response.json()) == (
        500,
        {"error": "Internal server error", "code": "internal"},
    )
    assert "secret detail" not in response.text
    assert "secret detail" in caplog.text  # but logged, with its traceback


async def test_validation_errors_name_each_field(http: httpx.AsyncClient) -> None:
    response = await http.post("/things", json={"name": 5})
    assert response.status_code == 422
    assert response.json() == {
        "error": "name: Input should be a valid string; size: Field required",
        "code": "invalid",
    }


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"{nope", "1: JSON decode error"), (b"[" * 100_000, "Body is not valid JSON (UTF-8)")],
    ids=["malformed", "nested past the parser's limit (FastAPI's 400)"],
)
async def test_a_body_that_is_not_json_is_422(
    http: httpx.AsyncClient, content: bytes, error: str
) -> None:
    response = await http.post(
        "/things", content=content, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()) == (422, {"error": error, "code": "invalid"})


async def test_unknown_paths_and_methods_are_json(http: httpx.AsyncClient) -> None:
    missing = await http.get("/nowhere")
    wrong_method = await http.delete("/teapot")
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "Not Found", "code": "not_found"},
    )
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"error": "Method Not Allowed", "code": "not_found"},
    )
