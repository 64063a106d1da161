"""Conversations over HTTP against a real `parley serve` (docs/reference.md, "Conversations"):
every route of the contract's table, its refusals, DMs from either side, bans, the last owner,
read markers and the unread cap, and that a private room or DM tells an outsider nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.config import Settings
from parley.ids import new_ulid
from parley.models import Message
from parley.storage.dynamo import TableNames, open_client
from parley.storage.messages import to_item
from tests.conftest import Person, Signup
from tests.servers import AppServer

UNAUTHORIZED = {"error": "Unauthorized", "code": "unauthorized", "redirect": "/login"}

Client = Callable[[Person], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def as_user(app: AppServer) -> AsyncIterator[Client]:
    """An HTTP client carrying a person's session cookie."""
    clients: list[httpx.AsyncClient] = []

    async def make(person: Person) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=app.url, cookies={"parley_session": person.cookie}, timeout=20
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def room_name() -> str:
    return f"Room {secrets.token_hex(4)}"


async def create(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/api/rooms", json={"name": room_name(), **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def put_messages(
    settings: Settings, tables: TableNames, room: str, authors: list[str]
) -> list[Message]:
    """Messages written straight into the table, as an outside producer would."""
    messages = []
    async with open_client(settings) as client:
        for n, author in enumerate(authors):
            message_id = new_ulid()
            message = Message(message_id, room, author, f"m{n}", "2026-11-30T00:00:00.000Z")
            await client.put_item(TableName=tables.messages, Item=to_item(message))
            messages.append(message)
    return messages


async def test_every_route_needs_a_session(http: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/rooms"),
        ("GET", "/api/rooms/directory"),
        ("GET", "/api/rooms/general"),
        ("PATCH", "/api/rooms/general"),
        ("POST", "/api/rooms/general/join"),
        ("POST", "/api/rooms/general/leave"),
        ("GET", "/api/rooms/general/members"),
        ("POST", "/api/rooms/general/members"),
        ("DELETE", "/api/rooms/general/members/someone"),
        ("PATCH", "/api/rooms/general/members/someone"),
        ("DELETE", "/api/rooms/general/bans/someone"),
        ("POST", "/api/rooms/general/read"),
        ("POST", "/api/dms"),
    ]:
        response = await http.request(method, path)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)


async def test_a_new_account_is_in_general_and_sees_its_rooms_general_first(
    signup: Signup, as_user: Client
) -> None:
    ada = await as_user(await signup())
    listed = (await ada.get("/api/rooms")).json()
    assert [room["id"] for room in listed] == ["general"]
    general = {key: listed[0][key] for key in ("id", "name", "kind", "topic", "role", "lastRead")}
    assert general == {
        "id": "general",
        "name": "general",
        "kind": "public",
        "topic": "",
        "role": "member",
        "lastRead": None,
    }
    assert set(listed[0]) == {*general, "unread", "mentions", "lastMessageId"}
    private = await create(ada, name="Aaa " + secrets.token_hex(3), kind="private")
    public = await create(ada, topic="Plans for the week")
    ids = [room["id"] for room in (await ada.get("/api/rooms")).json()]
    assert ids[0] == "general"
    assert set(ids[1:]) == {private["id"], public["id"]}
    assert (private["kind"], private["role"], public["topic"]) == (
        "private",
        "owner",
        "Plans for the week",
    )


async def test_creation_refuses_a_taken_id_a_long_topic_and_a_bad_kind(
    signup: Signup, as_user: Client
) -> None:
    ada = await as_user(await signup())
    room = await create(ada)
    taken = await ada.post("/api/rooms", json={"name": room["name"].upper()})
    assert (taken.status_code, taken.json()["code"]) == (409, "conflict")
    for body in (
        {"name": room_name(), "topic": "x" * 251},
        {"name": room_name(), "kind": "dm"},
        {"name": "Directory"},
    ):
        refused = await ada.post("/api/rooms", json=body)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid"), body


async def test_the_directory_finds_public_rooms_by_name_or_topic_in_pages(
    signup: Signup, as_user: Client
) -> None:
    ada = await as_user(await signup())
    bob = await as_user(await signup())
    tag = secrets.token_hex(4)
    rooms = [await create(ada, name=f"{tag} {letter}") for letter in "cab"]
    topical = await create(ada, topic=f"All about {tag.upper()}")
    await create(ada, name=f"{tag} secret", kind="private")
    first = (await bob.get("/api/rooms/directory", params={"q": tag.upper(), "limit": 2})).json()
    assert [room["name"] for room in first["rooms"]] == [f"{tag} a", f"{tag} b"]
    assert first["rooms"][0]["members"] == 1
    assert first["rooms"][0]["role"] is None
    rest = (
        await bob.get("/api/rooms/directory", params={"q": tag, "cursor": first["next"]})
    ).json()
    found = {room["id"] for room in first["rooms"] + rest["rooms"]}
    assert found == {room["id"] for room in rooms} | {topical["id"]}
    assert rest["next"] is None
    bad = await bob.get("/api/rooms/directory", params={"cursor": "nonsense"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    too_many = await bob.get("/api/rooms/directory", params={"limit": 101})
    assert too_many.status_code == 422


async def test_room_info_rename_and_topic(signup: Signup, as_user: Client) -> None:
    ada = await as_user(await signup())
    bob = await as_user(await signup())
    room = await create(ada)
    info = (await bob.get(f"/api/rooms/{room['id']}")).json()
    assert (info["role"], info["members"]) == (None, 1)
    refused = await bob.patch(f"/api/rooms/{room['id']}", json={"topic": "mine now"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    renamed = await ada.patch(f"/api/rooms/{room['id']}", json={"name": "Renamed", "topic": "t"})
    assert renamed.status_code == 200
    assert (renamed.json()["id"], renamed.json()["name"], renamed.json()["topic"]) == (
        room["id"],
        "Renamed",
        "t",
    )
    empty = await ada.patch(f"/api/rooms/{room['id']}", json={"name": ""})
    assert empty.status_code == 422


async def test_join_is_idempotent_and_leave_ends_it(signup: Signup, as_user: Client) -> None:
    ada = await as_user(await signup())
    bob = await as_user(await signup())
    room = await create(ada)
    for _ in range(2):
        joined = await bob.post(f"/api/rooms/{room['id']}/join")
        assert (joined.status_code, joined.json()["role"]) == (200, "member")
    assert (await bob.get(f"/api/rooms/{room['id']}")).json()["members"] == 2
    assert (await bob.post(f"/api/rooms/{room['id']}/leave")).status_code == 204
    again = await bob.post(f"/api/rooms/{room['id']}/leave")
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    assert room["id"] not in {r["id"] for r in (await bob.get("/api/rooms")).json()}


async def test_the_only_owner_cannot_leave_while_others_remain(
    signup: Signup, as_user: Client
) -> None:
    ada_person, bob_person = await signup(), await signup()
    ada, bob = await as_user(ada_person), await as_user(bob_person)
    room = await create(ada)
    await bob.post(f"/api/rooms/{room['id']}/join")
    refused = await ada.post(f"/api/rooms/{room['id']}/leave")
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    step_down = await ada.patch(
        f"/api/rooms/{room['id']}/members/{ada_person.username}", json={"role": "member"}
    )
    assert step_down.status_code == 409
    promoted = await ada.patch(
        f"/api/rooms/{room['id']}/members/{bob_person.username}", json={"role": "owner"}
    )
    assert promoted.json() == {"username": bob_person.username, "role": "owner"}
    assert (await ada.post(f"/api/rooms/{room['id']}/leave")).status_code == 204
    # Alone, the last owner may go.
    assert (await bob.post(f"/api/rooms/{room['id']}/leave")).status_code == 204


async def test_members_are_added_listed_removed_and_banned(signup: Signup, as_user: Client) -> None:
    ada_p, bob_p, eve_p = await signup(), await signup(), await signup()
    ada, bob, eve = await as_user(ada_p), await as_user(bob_p), await as_user(eve_p)
    room = await create(ada, kind="private")
    path = f"/api/rooms/{room['id']}/members"
    added = await ada.post(path, json={"username": bob_p.username.upper()})
    assert (added.status_code, added.json()) == (
        201,
        {"username": bob_p.username, "role": "member"},
    )
    again = await ada.post(path, json={"username": bob_p.username})
    assert again.status_code == 200
    # A plain member of a private room adds nobody.
    refused = await bob.post(path, json={"username": eve_p.username})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    unknown = await ada.post(path, json={"username": "nobody_" + secrets.token_hex(4)})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    listed = (await bob.get(path)).json()
    assert sorted((m["username"], m["role"], m["online"]) for m in listed) == sorted(
        [(ada_p.username, "owner", False), (bob_p.username, "member", False)]
    )
    # An admin cannot remove an owner; a member removes nobody.
    await ada.patch(f"{path}/{bob_p.username}", json={"role": "admin"})
    cannot = await bob.delete(f"{path}/{ada_p.username}")
    assert (cannot.status_code, cannot.json()["code"]) == (403, "forbidden")
    not_owner = await bob.patch(f"{path}/{ada_p.username}", json={"role": "member"})
    assert not_owner.status_code == 403
    bad_role = await ada.patch(f"{path}/{bob_p.username}", json={"role": "king"})
    assert bad_role.status_code == 422
    not_member = await ada.patch(f"{path}/{eve_p.username}", json={"role": "admin"})
    assert not_member.status_code == 404
    # Banned: out, and kept out until the ban is lifted.
    assert (await ada.delete(f"{path}/{bob_p.username}", params={"ban": "true"})).status_code == 204
    assert (await bob.get(f"/api/rooms/{room['id']}")).status_code == 404
    banned = await ada.post(path, json={"username": bob_p.username})
    assert (banned.status_code, banned.json()["code"]) == (403, "forbidden")
    bans = await ada.get(f"/api/rooms/{room['id']}/bans")
    assert bans.status_code == 200
    assert [ban["username"] for ban in bans.json()] == [bob_p.username]
    assert bans.json()[0]["bannedAt"].endswith("Z")
    assert (await eve.get(f"/api/rooms/{room['id']}/bans")).status_code == 404
    lift = await eve.delete(f"/api/rooms/{room['id']}/bans/{bob_p.username}")
    assert lift.status_code == 404  # eve is not in the room: it does not exist for her
    assert (await ada.delete(f"/api/rooms/{room['id']}/bans/{bob_p.username}")).status_code == 204
    assert (await ada.get(f"/api/rooms/{room['id']}/bans")).json() == []
    none_left = await ada.delete(f"/api/rooms/{room['id']}/bans/{bob_p.username}")
    assert none_left.status_code == 404
    assert (await ada.post(path, json={"username": bob_p.username})).status_code == 201
    listing = await bob.get(f"/api/rooms/{room['id']}/bans")  # a member, not an admin
    assert (listing.status_code, listing.json()["code"]) == (403, "forbidden")
    # Removing yourself is leaving.
    assert (await bob.delete(f"{path}/{bob_p.username}")).status_code == 204
    assert (await bob.get(f"/api/rooms/{room['id']}")).status_code == 404


async def test_a_banned_user_cannot_join_or_read_a_public_room(
    signup: Signup, as_user: Client
) -> None:
    ada, bob_p = await as_user(await signup()), await signup()
    bob = await as_user(bob_p)
    room = await create(ada)
    await bob.post(f"/api/rooms/{room['id']}/join")
    ban = await ada.delete(
        f"/api/rooms/{room['id']}/members/{bob_p.username}", params={"ban": "true"}
    )
    assert ban.status_code == 204
    for response in (
        await bob.post(f"/api/rooms/{room['id']}/join"),
        await bob.get(f"/api/rooms/{room['id']}/messages"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")


async def test_a_dm_is_one_room_per_pair_from_either_side(signup: Signup, as_user: Client) -> None:
    ada_p, bob_p, eve_p = await signup(), await signup(), await signup()
    ada, bob, eve = await as_user(ada_p), await as_user(bob_p), await as_user(eve_p)
    started = await ada.post("/api/dms", json={"username": bob_p.username.upper()})
    assert started.status_code == 201
    dm = started.json()
    assert (dm["kind"], dm["name"], dm["topic"], dm["role"]) == ("dm", bob_p.username, "", "member")
    back = await bob.post("/api/dms", json={"username": ada_p.username})
    assert (back.status_code, back.json()["id"], back.json()["name"]) == (
        200,
        dm["id"],
        ada_p.username,
    )
    assert dm["id"] in {room["id"] for room in (await bob.get("/api/rooms")).json()}
    path = f"/api/rooms/{dm['id']}"
    for response in (
        await ada.post(f"{path}/members", json={"username": eve_p.username}),
        await ada.delete(f"{path}/members/{bob_p.username}"),
        await ada.post(f"{path}/leave"),
        await ada.patch(f"{path}/members/{bob_p.username}", json={"role": "owner"}),
    ):
        assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert (await eve.get(path)).status_code == 404
    unknown = await ada.post("/api/dms", json={"username": "nobody_" + secrets.token_hex(4)})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert (await ada.post("/api/dms", json={"username": "no"})).status_code == 422
    myself = await ada.post("/api/dms", json={"username": ada_p.username})
    assert (myself.status_code, myself.json()["name"]) == (201, ada_p.username)


async def test_read_markers_unread_and_the_cap(
    signup: Signup, as_user: Client, settings: Settings, tables: TableNames
) -> None:
    ada_p, bob_p = await signup(), await signup()
    ada, bob = await as_user(ada_p), await as_user(bob_p)
    room = await create(ada)
    await bob.post(f"/api/rooms/{room['id']}/join")
    messages = await put_messages(settings, tables, room["id"], [ada_p.username] * 3)
    seen = (await bob.get(f"/api/rooms/{room['id']}")).json()
    assert (seen["unread"], seen["lastRead"], seen["lastMessageId"]) == (3, None, messages[-1].id)
    read = f"/api/rooms/{room['id']}/read"
    assert (await bob.post(read, json={"id": messages[1].id})).status_code == 204
    assert (await bob.post(read, json={"id": messages[0].id})).status_code == 204  # not back
    after = (await bob.get(f"/api/rooms/{room['id']}")).json()
    assert (after["unread"], after["lastRead"]) == (1, messages[1].id)
    other_room = await put_messages(settings, tables, "general", [ada_p.username])
    elsewhere = await bob.post(read, json={"id": other_room[0].id})
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "not_found")
    assert (await bob.post(read, json={"id": "not-a-ulid"})).status_code == 422
    # Own messages never count; others' count up to 100.
    await put_messages(settings, tables, room["id"], [bob_p.username] * 5 + [ada_p.username] * 105)
    capped = (await bob.get(f"/api/rooms/{room['id']}")).json()
    assert capped["unread"] == 100
    listed = {r["id"]: r for r in (await bob.get("/api/rooms")).json()}
    assert listed[room["id"]]["unread"] == 100
    assert (await ada.get(f"/api/rooms/{room['id']}")).json()["unread"] == 5


async def test_an_outsider_learns_nothing_of_a_private_room_or_dm(
    signup: Signup, as_user: Client
) -> None:
    ada_p, bob_p, eve_p = await signup(), await signup(), await signup()
    ada, eve = await as_user(ada_p), await as_user(eve_p)
    private = await create(ada, kind="private")
    dm = (await ada.post("/api/dms", json={"username": bob_p.username})).json()
    missing = "missing-" + secrets.token_hex(4)

    async def answers(room: str) -> list[tuple[int, Any]]:
        calls = [
            eve.get(f"/api/rooms/{room}"),
            eve.patch(f"/api/rooms/{room}", json={"topic": "x"}),
            eve.post(f"/api/rooms/{room}/join"),
            eve.post(f"/api/rooms/{room}/leave"),
            eve.get(f"/api/rooms/{room}/members"),
            eve.post(f"/api/rooms/{room}/members", json={"username": eve_p.username}),
            eve.delete(f"/api/rooms/{room}/members/{ada_p.username}"),
            eve.delete(f"/api/rooms/{room}/members/{ada_p.username}", params={"ban": "true"}),
            eve.patch(f"/api/rooms/{room}/members/{ada_p.username}", json={"role": "owner"}),
            eve.delete(f"/api/rooms/{room}/bans/{ada_p.username}"),
            eve.post(f"/api/rooms/{room}/read", json={"id": new_ulid()}),
            eve.get(f"/api/rooms/{room}/messages"),
            eve.get(f"/api/rooms/{room}/messages", params={"after": "0" * 26}),
        ]
        found = []
        for call in calls:
            response = await call
            found.append((response.status_code, response.json()))
        return found

    absent = await answers(missing)
    assert absent == [(404, {"error": f"No room '{missing}'", "code": "not_found"})] * len(absent)
    for room in (private["id"], dm["id"]):
        # The same status and body as the missing room, its id aside.
        assert await answers(room) == [
            (404, {"error": f"No room '{room}'", "code": "not_found"})
        ] * len(absent)
    directory = (await eve.get("/api/rooms/directory", params={"q": private["name"]})).json()
    assert directory["rooms"] == []
    assert {r["id"] for r in (await eve.get("/api/rooms")).json()} == {"general"}
