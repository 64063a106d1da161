"""CSRF refusal on cookie-authenticated state changes, and security headers everywhere."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import AppServer
from tests.utils import register_and_login


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}],
)
async def test_cross_site_state_changes_are_refused(
    http: httpx.AsyncClient, username: str, headers: dict[str, str]
) -> None:
    await register_and_login(http, username)
    for path, body in [("/api/rooms", {"name": "csrf room"}), ("/api/auth/logout", None)]:
        response = await http.post(path, json=body, headers=headers)
        assert response.status_code == 403, path
        assert response.json() == {"error": "Cross-site request refused"}
    assert (await http.get("/api/auth/me")).status_code == 200


async def test_same_origin_state_changes_pass(
    app: AppServer, http: httpx.AsyncClient, username: str
) -> None:
    await register_and_login(http, username)
    response = await http.post("/api/auth/logout", headers={"Origin": app.url})
    assert response.status_code == 204


async def test_security_headers_on_every_response(http: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/api/auth/me", "/api/nothing"):
        headers = (await http.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
