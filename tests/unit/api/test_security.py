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
from starlette.types import ASGIApp

from parley.api.security import SECURITY_HEADERS, SecurityHeaders, SecurityMiddleware
from parley.app import create_app
from parley.config import Settings

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
    assert (response.status_code, response.json()) == (
        403,
        {"error": "Cross-site request refused", "code": "forbidden"},
    )
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


# --- Cache-Control on the API, and the headers on what Socket.IO answers ---------------------


async def cached(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok", headers={"Cache-Control": "max-age=3600"})


def guarded_app(app: ASGIApp, *, outer: bool) -> ASGIApp:
    guarded: ASGIApp = SecurityMiddleware(app, allowed_origins=frozenset({OWN}))
    return SecurityHeaders(guarded) if outer else guarded


@pytest.mark.parametrize("outer", [False, True], ids=["api-only", "whole-app"])
async def test_api_answers_are_never_stored_by_a_cache(outer: bool) -> None:
    routes = [
        Route("/api/thing", cached, methods=["GET", "POST"]),
        Route("/assets/app.js", cached),
    ]
    app = guarded_app(Starlette(routes=routes), outer=outer)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as http:
        answers = [
            await http.get("/api/thing"),
            await http.get("/api/nowhere"),  # 404
            await http.post("/api/thing", headers={"origin": "https://evil.example"}),  # 403
        ]
        for response in answers:
            assert response.headers.get_list("cache-control") == ["no-store"]
            assert_secured(response)
            assert response.headers.get_list("x-frame-options") == ["DENY"]  # added once
        assert [response.status_code for response in answers] == [200, 404, 403]
        asset = await http.get("/assets/app.js")
        assert asset.headers["cache-control"] == "max-age=3600"
        assert_secured(asset)


async def test_socket_io_answers_carry_the_security_headers(unit_settings: Settings) -> None:
    # socketio.ASGIApp answers /socket.io/ before the FastAPI app (and its middleware) sees it.
    app = create_app(unit_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as http:
        handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        unknown = await http.get("/socket.io/", params={"EIO": "4", "transport": "carrier-pigeon"})
        api = await http.get("/api/openapi.json")
    for response in (handshake, unknown, api):
        assert_secured(response)
        assert response.headers.get_list("content-security-policy") == [
            dict(SECURITY_HEADERS)[b"content-security-policy"].decode()
        ]
    assert unknown.status_code == 400
    assert api.headers["cache-control"] == "no-store"
