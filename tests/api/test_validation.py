"""Bad input gets a 4xx with a JSON body that says what is wrong, and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.servers import AppServer
from tests.utils import PASSWORD, register_and_login

GOOD = {"username": "valid_name", "password": PASSWORD}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "password": PASSWORD}, "username"),
        ({"username": "a" * 33, "password": PASSWORD}, "username"),
        ({"username": "bad name", "password": PASSWORD}, "username"),
        ({"username": "naïve", "password": PASSWORD}, "username"),
        ({"username": 12345, "password": PASSWORD}, "username"),
        ({"password": PASSWORD}, "username"),
        ({"username": "valid_name", "password": "short"}, "password"),
        ({"username": "valid_name", "password": "x" * 129}, "password"),
        ({"username": "valid_name", "password": None}, "password"),
        ({"username": "valid_name"}, "password"),
        ({**GOOD, "admin": True}, "admin"),
    ],
)
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
async def test_bad_credentials_bodies_are_422(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = await http.post(path, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error.startswith(field + ":"), error
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"[]", "application/json"), (b"", "application/json")],
)
async def test_malformed_json_is_422(
    http: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await http.post(
        "/api/auth/register", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 422
    assert "error" in response.json()
    assert response.json()["code"] == "invalid"


async def test_a_failed_registration_stores_nothing(http: httpx.AsyncClient, username: str) -> None:
    await http.post("/api/auth/register", json={"username": username, "password": "short"})
    response = await http.post(
        "/api/auth/login", json={"username": username, "password": "short-but-valid"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": ""}, "name:"),
        ({"name": "x" * 65}, "name:"),
        ({"name": "!!!"}, "name: must contain at least one letter or digit"),
        ({"name": 7}, "name:"),
        ({}, "name:"),
    ],
)
async def test_bad_room_names_are_422(
    http: httpx.AsyncClient, username: str, body: dict[str, Any], expected: str
) -> None:
    await register_and_login(http, username)
    response = await http.post("/api/rooms", json=body)
    assert response.status_code == 422
    assert response.json()["error"].startswith(expected)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "before=not-a-ulid",
        "after=01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
        "before=01ARZ3NDEKTSV4RRFFQ69G5FAV&after=01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ],
)
async def test_bad_history_queries_are_422(
    http: httpx.AsyncClient, username: str, query: str
) -> None:
    await register_and_login(http, username)
    response = await http.get(f"/api/rooms/general/messages?{query}")
    assert response.status_code == 422
    assert response.json()["error"]
    assert response.json()["code"] == "invalid"


async def test_unknown_routes_are_json_404(http: httpx.AsyncClient, username: str) -> None:
    # Without a session every /api/ path is a 401: nothing tells which routes exist.
    assert (await http.get("/api/nothing-here")).status_code == 401
    await register_and_login(http, username)
    response = await http.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "code": "not_found"}


async def test_wrong_method_is_json_405(http: httpx.AsyncClient, username: str) -> None:
    await register_and_login(http, username)
    response = await http.delete("/api/auth/me")
    assert response.status_code == 405
    assert response.json() == {"error": "Method Not Allowed", "code": "not_found"}
    assert response.headers["allow"] == "GET"


async def test_a_post_without_a_body_is_not_refused_as_not_json(
    app: AppServer, username: str
) -> None:
    """`curl -X POST .../logout` sends neither Content-Length nor Transfer-Encoding."""
    async with httpx.AsyncClient(base_url=app.url) as http:
        await register_and_login(http, username)
        request = http.build_request("POST", "/api/auth/logout")
        del request.headers["content-length"]
        response = await http.send(request)
    assert response.status_code == 204


@pytest.mark.parametrize("length", [65, 2049, 5000])  # DynamoDB refuses keys over 2048 bytes
async def test_a_room_id_too_long_to_be_one_is_422_never_500(
    http: httpx.AsyncClient, username: str, length: int
) -> None:
    await register_and_login(http, username)
    response = await http.get(f"/api/rooms/{'r' * length}/messages")
    assert (response.status_code, response.json()["code"]) == (422, "invalid")


async def test_room_names_with_bidi_controls_are_422(
    http: httpx.AsyncClient, username: str
) -> None:
    await register_and_login(http, username)
    response = await http.post("/api/rooms", json={"name": "admin\u202egnp.exe"})
    assert response.status_code == 422
    assert response.json()["error"].startswith("name: must be printable text")
