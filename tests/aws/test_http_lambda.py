"""The HTTP Lambda answers real-shaped API Gateway HTTP API (payload 2.0) events, against real
Redis and the DynamoDB endpoint, with the same contract as `parley serve`."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from parley.aws.http import make_handler
from tests.conftest import settings_for
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import PASSWORD, login, register

Handler = Any


def api_event(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    cookies: list[str] | None = None,
    query: str = "",
    viewer: str = "198.51.100.7:50000",
) -> dict[str, Any]:
    headers = {
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "pytest",
        "cloudfront-viewer-address": viewer,
    }
    if body is not None:
        headers["content-type"] = "application/json"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "130.176.0.1",
                "userAgent": "pytest",
            },
            "requestId": secrets.token_hex(8),
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": "24/Nov/2026:20:00:00 +0000",
            "timeEpoch": 1795550400000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = json.dumps(body)
    if cookies:
        event["cookies"] = cookies
    return event


class LambdaRuntime:
    """Like Lambda's runtime: one thread runs every invocation of the handler, in turn."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1)

    def run(self, function: Callable[[], Any]) -> Any:
        return self._thread.submit(function).result(60)

    def close(self) -> None:
        self.run(lambda: asyncio.get_event_loop().close())
        self._thread.shutdown()


@pytest.fixture(scope="module")
def runtime() -> Iterator[LambdaRuntime]:
    runtime = LambdaRuntime()
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def handler(base_env: dict[str, str], tables: object, runtime: LambdaRuntime) -> Handler:
    settings = settings_for(base_env).model_copy(
        update={"client_ip_header": "CloudFront-Viewer-Address"}
    )
    adapter = runtime.run(lambda: make_handler(settings))
    return lambda event: runtime.run(lambda: adapter(event, None))


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = handler(event)
    return response


def test_register_login_me_history_logout(handler: Handler) -> None:
    name = f"lambda_{secrets.token_hex(3)}"
    credentials = {"username": name, "password": PASSWORD}

    response = invoke(handler, api_event("POST", "/api/auth/register", body=credentials))
    assert response["statusCode"] == 201
    assert json.loads(response["body"]) == {"username": name}

    response = invoke(handler, api_event("POST", "/api/auth/login", body=credentials))
    assert response["statusCode"] == 200
    (cookie,) = response["cookies"]
    assert cookie.startswith("parley_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    session = cookie.split(";", 1)[0]

    response = invoke(handler, api_event("GET", "/api/auth/me", cookies=[session]))
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"username": name})
    assert "frame-ancestors 'none'" in response["headers"]["content-security-policy"]

    response = invoke(
        handler,
        api_event("GET", "/api/rooms/general/messages", cookies=[session], query="limit=5"),
    )
    assert response["statusCode"] == 200
    assert set(json.loads(response["body"])) == {"messages", "next"}

    response = invoke(handler, api_event("POST", "/api/auth/logout", cookies=[session]))
    assert response["statusCode"] == 204
    response = invoke(handler, api_event("GET", "/api/auth/me", cookies=[session]))
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "redirect": "/login",
    }


def test_validation_errors_are_json(handler: Handler) -> None:
    body = {"username": "x", "password": PASSWORD}
    response = invoke(handler, api_event("POST", "/api/auth/register", body=body))
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["error"].startswith("username:")


def test_login_throttling_uses_the_viewer_address(handler: Handler) -> None:
    viewer = f"203.0.113.{secrets.randbelow(250)}:443"
    for attempt in range(30):
        body = {
            "username": f"nobody_{attempt}_{secrets.token_hex(2)}",
            "password": "wrong-password",
        }
        response = invoke(handler, api_event("POST", "/api/auth/login", body=body, viewer=viewer))
        assert response["statusCode"] == 401
    response = invoke(
        handler,
        api_event(
            "POST",
            "/api/auth/login",
            body={"username": "anyone", "password": PASSWORD},
            viewer=viewer,
        ),
    )
    assert response["statusCode"] == 429
    # Another viewer behind the same CloudFront edge is not affected.
    response = invoke(
        handler,
        api_event("POST", "/api/auth/login", body={"username": "anyone", "password": PASSWORD}),
    )
    assert response["statusCode"] == 401


async def test_logout_through_the_lambda_kicks_sockets_on_the_app(
    handler: Handler, app: AppServer, http: Any
) -> None:
    name = f"lambda_{secrets.token_hex(3)}"
    await register(http, name)
    cookie = await login(http, name)
    client = ChatClient(app, cookie)
    await client.connect()
    try:
        await client.join()
        response = invoke(
            handler, api_event("POST", "/api/auth/logout", cookies=[f"parley_session={cookie}"])
        )
        assert response["statusCode"] == 204
        assert await client.next("session_expired", timeout=5) == {}
    finally:
        await client.close()
