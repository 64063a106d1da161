"""The built front end at "/", with the single-page-app fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from parley.api.errors import install_error_handlers
from parley.api.web import mount_web


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Parley</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log('parley')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside the dist")
    return tmp_path


async def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def http(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    mount_web(app, dist)
    async with await client_for(app) as client:
        yield client


async def test_the_root_is_the_app_and_never_cached(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.text.startswith("<!doctype html>")
    assert response.headers["cache-control"] == "no-cache"


async def test_client_routes_fall_back_to_the_app(http: httpx.AsyncClient) -> None:
    response = await http.get("/rooms/general")
    assert (response.status_code, response.text) == (200, "<!doctype html><title>Parley</title>")


async def test_files_and_assets_are_served(http: httpx.AsyncClient) -> None:
    assert (await http.get("/assets/app.js")).text == "console.log('parley')"
    assert (await http.get("/favicon.svg")).text == "<svg/>"


async def test_nothing_outside_the_dist_is_served(http: httpx.AsyncClient) -> None:
    response = await http.get("/%2e%2e/secret.txt")  # the app sees "../secret.txt"
    assert response.text == "<!doctype html><title>Parley</title>"


@pytest.mark.parametrize("path", ["/api/nothing", "/socket.io/x"])
async def test_api_and_socket_paths_are_never_the_app(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert (response.status_code, response.json()) == (
        404,
        {"error": "Not Found", "code": "not_found"},
    )


async def test_without_a_build_nothing_is_mounted(tmp_path: Path) -> None:
    app = FastAPI()
    mount_web(app, tmp_path / "missing")
    async with await client_for(app) as client:
        assert (await client.get("/")).status_code == 404
