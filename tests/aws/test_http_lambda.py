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
from pydantic import SecretStr

from parley.aws.http import make_handler
from tests.conftest import settings_for
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import PASSWORD, login, register

Handler = Any
# What CloudFront adds to every /api request (infra/template.yaml, X-Parley-Origin-Verify).
ORIGIN_SECRET = "origin-secret-" + secrets.token_hex(8)


def api_event(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    cookies: list[str] | None = None,
    query: str = "",
    viewer: str = "198.51.100.7:50000",
    origin_secret: str | None = ORIGIN_SECRET,
    source_ip: str = "130.176.0.1",
) -> dict[str, Any]:
    headers = {
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "pytest",
        "cloudfront-viewer-address": viewer,
    }
    if origin_secret is not None:
        headers["x-parley-origin-verify"] = origin_secret
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
                "sourceIp": source_ip,
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
        update={
            "client_ip_header": "CloudFront-Viewer-Address",
            "origin_secret": SecretStr(ORIGIN_SECRET),
        }
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


@pytest.mark.parametrize("sent_secret", [None, "wrong-secret"])
def test_rotated_viewer_header_without_the_origin_secret_changes_nothing(
    handler: Handler, sent_secret: str | None
) -> None:
    """A direct call to the execute-api endpoint can write CloudFront-Viewer-Address itself:
    without CloudFront's secret the header is ignored, so rotating it does not escape the
    per-address limit of the caller's real address."""
    attacker = f"192.0.2.{secrets.randbelow(250)}"

    def attempt(viewer: str) -> dict[str, Any]:
        body = {"username": f"nobody_{secrets.token_hex(4)}", "password": "wrong-password"}
        event = api_event(
            "POST",
            "/api/auth/login",
            body=body,
            viewer=viewer,
            origin_secret=sent_secret,
            source_ip=attacker,
        )
        return invoke(handler, event)

    for n in range(30):
        assert attempt(f"203.0.113.{n}:443")["statusCode"] == 401
    assert attempt("198.51.100.200:443")["statusCode"] == 429
    # Through CloudFront (with the secret) a viewer address is still its own.
    body = {"username": f"nobody_{secrets.token_hex(4)}", "password": PASSWORD}
    event = api_event("POST", "/api/auth/login", body=body, source_ip=attacker)
    assert invoke(handler, event)["statusCode"] == 401


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
