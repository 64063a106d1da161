"""Security headers on every response, and state changes from a foreign page refused (OWASP
CSRF Cheat Sheet, "Verifying Origin With Standard Headers")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from parley.api.security import SECURITY_HEADERS, SecurityMiddleware

OWN = "https://chat.example"


async def ok(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route("/", ok, methods=["GET", "POST", "DELETE"])])
    guarded = SecurityMiddleware(app, allowed_origins=frozenset({OWN}))
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url=OWN) as client:
        yield client


def assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode()


async def test_every_response_carries_the_security_headers(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.text == "ok"
    assert_secured(response)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"referer": "https://evil.example/page"}],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_a_cross_site_state_change_is_refused(
    http: httpx.AsyncClient, method: str, headers: dict[str, str]
) -> None:
    response = await http.request(method, "/", headers=headers)
    assert (response.status_code, response.json()) == (403, {"error": "Cross-site request refused"})
    assert_secured(response)


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": OWN},
        {"origin": OWN + "/"},
        {"referer": OWN + "/rooms/general?x=1"},
        {},  # not a browser
    ],
)
async def test_same_site_or_non_browser_state_changes_pass(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await http.post("/", headers=headers)).status_code == 200


async def test_a_foreign_origin_may_still_read(http: httpx.AsyncClient) -> None:
    assert (await http.get("/", headers={"origin": "https://evil.example"})).status_code == 200
