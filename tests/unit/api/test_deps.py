"""The client address used for per-address limits (parley/api/deps.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from parley.api.deps import client_address
from parley.config import Settings

SECRET = "s3cret-origin-value"


def request(headers: dict[str, str]) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/api/auth/login",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.10", 50000),
    }
    return Request(scope)


def address(settings: Settings, headers: dict[str, str]) -> str:
    services: Any = SimpleNamespace(settings=settings)
    return client_address(request(headers), services)


@pytest.fixture
def behind_cloudfront() -> Settings:
    return Settings(client_ip_header="CloudFront-Viewer-Address", origin_secret=SecretStr(SECRET))


def test_the_header_counts_with_the_origin_secret(behind_cloudfront: Settings) -> None:
    headers = {"CloudFront-Viewer-Address": "203.0.113.9:443", "X-Parley-Origin-Verify": SECRET}
    assert address(behind_cloudfront, headers) == "203.0.113.9"
    headers["CloudFront-Viewer-Address"] = "[2001:db8::1]:443"
    assert address(behind_cloudfront, headers) == "2001:db8::1"


@pytest.mark.parametrize("sent", [None, "", "wrong", SECRET + "x", SECRET[:-1], SECRET.upper()])
def test_a_rotated_header_without_the_secret_is_ignored(
    behind_cloudfront: Settings, sent: str | None
) -> None:
    for n in range(3):
        headers = {"CloudFront-Viewer-Address": f"203.0.113.{n}:443"}
        if sent is not None:
            headers["X-Parley-Origin-Verify"] = sent
        assert address(behind_cloudfront, headers) == "192.0.2.10"


def test_without_a_configured_secret_the_header_is_never_trusted() -> None:
    settings = Settings(client_ip_header="CloudFront-Viewer-Address")
    headers = {"CloudFront-Viewer-Address": "203.0.113.9:443", "X-Parley-Origin-Verify": ""}
    assert address(settings, headers) == "192.0.2.10"
    assert Settings(origin_secret="  ").origin_secret is None  # type: ignore[arg-type]


def test_without_a_header_setting_the_connection_counts() -> None:
    settings = Settings(origin_secret=SecretStr(SECRET))
    headers = {"CloudFront-Viewer-Address": "203.0.113.9:443", "X-Parley-Origin-Verify": SECRET}
    assert address(settings, headers) == "192.0.2.10"
