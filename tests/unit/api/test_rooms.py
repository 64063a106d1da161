"""GET/POST /api/rooms and a room's history pages, in this process."""

from __future__ import annotations

import httpx
import pytest

from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.messages import MessageStore
from tests.unit.support import make_message, new_name


async def test_a_created_room_is_listed(http: httpx.AsyncClient, logged_in: str) -> None:
    name = new_name("Room")
    created = await http.post("/api/rooms", json={"name": name})
    assert (created.status_code, created.json()) == (201, {"id": name.lower(), "name": name})
    assert created.json() in (await http.get("/api/rooms")).json()


async def test_a_second_room_with_the_same_id_is_409(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    name = new_name("room")
    await http.post("/api/rooms", json={"name": name})
    again = await http.post("/api/rooms", json={"name": f"  {name.upper()}!"})
    assert (again.status_code, again.json()) == (
        409,
        {"error": f"A room with id '{name}' already exists"},
    )


async def test_a_name_without_letters_or_digits_is_422(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    response = await http.post("/api/rooms", json={"name": "!!!"})
    assert (response.status_code, response.json()) == (
        422,
        {"error": "name: must contain at least one letter or digit"},
    )


@pytest.fixture
async def room(http: httpx.AsyncClient, logged_in: str) -> str:
    name = new_name("room")
    assert (await http.post("/api/rooms", json={"name": name})).status_code == 201
    return name


async def test_history_pages(
    http: httpx.AsyncClient, room: str, dynamo: DynamoClient, tables: TableNames
) -> None:
    store = MessageStore(dynamo, tables.messages)
    messages = [make_message(room=room, text=f"m{n}", client_id=f"c{n}") for n in range(3)]
    for message in messages:
        await store.put(message)
    as_json = [message.to_json() for message in messages]
    latest = (await http.get(f"/api/rooms/{room}/messages", params={"limit": 2})).json()
    assert latest == {"messages": as_json[1:], "next": messages[1].id}
    older = await http.get(f"/api/rooms/{room}/messages", params={"before": latest["next"]})
    assert older.json() == {"messages": as_json[:1], "next": None}
    newer = await http.get(f"/api/rooms/{room}/messages", params={"after": messages[0].id})
    assert newer.json() == {"messages": as_json[1:], "next": None}


async def test_history_of_an_unknown_room_is_404(http: httpx.AsyncClient, logged_in: str) -> None:
    response = await http.get("/api/rooms/nowhere-at-all/messages")
    assert (response.status_code, response.json()) == (404, {"error": "No room 'nowhere-at-all'"})


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"before": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "after": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
            "before and after cannot be combined",
        ),
        ({"before": "not-a-ulid"}, "before: String should match pattern"),
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"limit": 101}, "limit: Input should be less than or equal to 100"),
    ],
)
async def test_bad_history_queries_are_422(
    http: httpx.AsyncClient, room: str, params: dict[str, str | int], error: str
) -> None:
    response = await http.get(f"/api/rooms/{room}/messages", params=params)
    assert response.status_code == 422
    assert response.json()["error"].startswith(error)
