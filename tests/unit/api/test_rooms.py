"""GET/POST /api/rooms and a room's history pages, in this process."""

from __future__ import annotations

import time

import httpx
import pytest
from redis.asyncio import Redis

from parley.api.rooms import CHANGE_VISIBILITY_SECONDS
from parley.ids import MIN_ULID, new_ulid, ulid_at
from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.messages import MessageStore
from parley.storage.rooms import ROOM_QUOTA_WINDOW_SECONDS, ROOMS_PER_USER_PER_DAY
from tests.unit.support import make_message, new_name
from tests.utils import PASSWORD


async def test_a_created_room_is_listed(http: httpx.AsyncClient, logged_in: str) -> None:
    name = new_name("Room")
    created = await http.post("/api/rooms", json={"name": name})
    # The room object of the conversations contract: the creator is its owner.
    room = {
        "id": name.lower(),
        "name": name,
        "kind": "public",
        "topic": "",
        "role": "owner",
        "unread": 0,
        "mentions": 0,
        "lastRead": None,
        "lastMessageId": None,
    }
    assert (created.status_code, created.json()) == (201, room)
    assert created.json() in (await http.get("/api/rooms")).json()


async def test_a_second_room_with_the_same_id_is_409(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    name = new_name("room")
    await http.post("/api/rooms", json={"name": name})
    again = await http.post("/api/rooms", json={"name": f"  {name.upper()}!"})
    assert (again.status_code, again.json()) == (
        409,
        {"error": f"A room with id '{name}' already exists", "code": "conflict"},
    )


async def test_a_name_without_letters_or_digits_is_422(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    response = await http.post("/api/rooms", json={"name": "!!!"})
    assert (response.status_code, response.json()) == (
        422,
        {"error": "name: must contain at least one letter or digit", "code": "invalid"},
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
    assert (response.status_code, response.json()) == (
        404,
        {"error": "No room 'nowhere-at-all'", "code": "not_found"},
    )


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
    assert response.json()["code"] == "invalid"


# --- quota and names ------------------------------------------------------------------------


async def test_a_user_creates_at_most_ten_rooms_a_day(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    taken = new_name("room")
    assert (await http.post("/api/rooms", json={"name": taken})).status_code == 201
    # A creation refused (the id is taken) does not count.
    assert (await http.post("/api/rooms", json={"name": taken})).status_code == 409
    for _ in range(ROOMS_PER_USER_PER_DAY - 1):
        assert (await http.post("/api/rooms", json={"name": new_name("room")})).status_code == 201
    refused = await http.post("/api/rooms", json={"name": new_name("room")})
    assert refused.status_code == 429
    body = refused.json()
    assert (body["code"], body["error"]) == (
        "rate_limited",
        f"Too many rooms created today (at most {ROOMS_PER_USER_PER_DAY} a day)",
    )
    assert ROOM_QUOTA_WINDOW_SECONDS - 60 <= body["retryAfter"] <= ROOM_QUOTA_WINDOW_SECONDS
    assert int(refused.headers["retry-after"]) == body["retryAfter"]


async def test_the_room_quota_is_per_user(http: httpx.AsyncClient, redis: Redis) -> None:
    for _ in range(2):
        await http.post("/api/auth/logout")
        credentials = {"username": new_name("user"), "password": PASSWORD}
        assert (await http.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await http.post("/api/auth/login", json=credentials)).status_code == 200
        await redis.set(f"roomquota:{credentials['username']}", ROOMS_PER_USER_PER_DAY - 1)
        assert (await http.post("/api/rooms", json={"name": new_name("room")})).status_code == 201
        assert (await http.post("/api/rooms", json={"name": new_name("room")})).status_code == 429


@pytest.mark.parametrize(
    "unprintable",
    [
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE (Cf, bidi)
        "\u2067",  # RIGHT-TO-LEFT ISOLATE (Cf, bidi)
        "\u200b",  # ZERO WIDTH SPACE (Cf)
        "\x07",  # BELL (Cc)
        "\n",  # (Cc)
        "\u2028",  # LINE SEPARATOR (Zl)
        "\u2029",  # PARAGRAPH SEPARATOR (Zp)
        "\ue000",  # private use (Co)
        "\u0378",  # unassigned (Cn)
    ],
)
async def test_a_name_with_control_or_format_characters_is_422(
    http: httpx.AsyncClient, logged_in: str, unprintable: str
) -> None:
    response = await http.post("/api/rooms", json={"name": f"room{unprintable}name"})
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "name: must be printable text, without control or formatting characters",
            "code": "invalid",
        },
    )


@pytest.mark.parametrize("name", ["Café crème", "東京 chat", "C++ & Rust 🦀", "Ünïcode — ok"])
async def test_printable_names_of_any_script_are_accepted(
    http: httpx.AsyncClient, logged_in: str, name: str
) -> None:
    name = f"{name} {new_name('x')}"
    created = await http.post("/api/rooms", json={"name": name})
    assert (created.status_code, created.json()["name"]) == (201, name)


async def test_a_compatibility_lookalike_name_is_the_name_it_looks_like(
    http: httpx.AsyncClient, logged_in: str
) -> None:
    name = new_name("room")
    assert (await http.post("/api/rooms", json={"name": name})).status_code == 201
    fullwidth = "".join(chr(ord(char) + 0xFEE0) if char != "-" else char for char in name)
    again = await http.post("/api/rooms", json={"name": fullwidth})
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


# --- room ids in paths ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [65, 3000])  # 3000: past DynamoDB's 2048-byte key limit
async def test_a_room_id_longer_than_an_id_can_be_is_422_not_500(
    http: httpx.AsyncClient, logged_in: str, length: int
) -> None:
    response = await http.get(f"/api/rooms/{'r' * length}/messages")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert "at most 64 characters" in response.json()["error"]


# --- changes (rich messages) ---------------------------------------------------------------


async def test_changes_since_a_sync_point(
    http: httpx.AsyncClient, room: str, dynamo: DynamoClient, tables: TableNames
) -> None:
    store = MessageStore(dynamo, tables.messages)
    unchanged, changed = make_message(room=room), make_message(room=room, username="ada")
    for message in (unchanged, changed):
        await store.put(message)
    since = new_ulid()
    edited = await store.edit(
        room,
        changed.id,
        author="ada",
        text="edited",
        mentions=(),
        edited_at="2026-01-02T03:04:05.000Z",
        change=new_ulid(),
    )
    before = ulid_at(time.time() - CHANGE_VISIBILITY_SECONDS)
    body = (await http.get(f"/api/rooms/{room}/changes", params={"since": since})).json()
    assert (body["messages"], body["next"]) == ([edited.to_json()], None)
    assert before <= body["sync"] <= ulid_at(time.time() - CHANGE_VISIBILITY_SECONDS + 1)
    later = (await http.get(f"/api/rooms/{room}/changes", params={"since": new_ulid()})).json()
    assert later["messages"] == []


@pytest.mark.parametrize(
    ("params", "status"), [({}, 422), ({"since": "nope"}, 422), ({"since": MIN_ULID}, 404)]
)
async def test_bad_changes_queries(
    http: httpx.AsyncClient, logged_in: str, params: dict[str, str], status: int
) -> None:
    response = await http.get("/api/rooms/nowhere-at-all/changes", params=params)
    assert response.status_code == status
