"""The conversation routes in this process: the room object, DMs, the directory's cursor and a
hidden room's 404 (the end-to-end suite, tests/api/test_conversations.py, covers every row)."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from tests.unit.api.conftest import client
from tests.unit.support import new_name
from tests.utils import PASSWORD


async def log_in(http: httpx.AsyncClient) -> str:
    name = new_name("user")
    credentials = {"username": name, "password": PASSWORD}
    assert (await http.post("/api/auth/register", json=credentials)).status_code == 201
    assert (await http.post("/api/auth/login", json=credentials)).status_code == 200
    return name


async def test_a_dm_is_found_again_from_the_other_side(api: ASGIApp, redis: object) -> None:
    async with client(api) as ada, client(api) as bob:
        ada_name, bob_name = await log_in(ada), await log_in(bob)
        first = await ada.post("/api/dms", json={"username": bob_name})
        second = await bob.post("/api/dms", json={"username": ada_name})
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        assert (first.json()["name"], second.json()["name"]) == (bob_name, ada_name)


async def test_a_private_room_answers_an_outsider_as_a_missing_one(
    api: ASGIApp, redis: object
) -> None:
    async with client(api) as ada, client(api) as eve:
        await log_in(ada)
        await log_in(eve)
        room = (
            await ada.post("/api/rooms", json={"name": new_name("hid"), "kind": "private"})
        ).json()
        hidden = await eve.get(f"/api/rooms/{room['id']}/messages")
        missing = await eve.get("/api/rooms/nowhere-at-all/messages")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == {"error": f"No room '{room['id']}'", "code": "not_found"}
        assert missing.json() == {"error": "No room 'nowhere-at-all'", "code": "not_found"}


async def test_a_cursor_the_server_did_not_give_is_422(api: ASGIApp, redis: object) -> None:
    async with client(api) as ada:
        await log_in(ada)
        response = await ada.get("/api/rooms/directory", params={"cursor": "x"})
        assert (response.status_code, response.json()["code"]) == (422, "invalid")
