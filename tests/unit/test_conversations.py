"""The conversations service over the real stores: what each change writes, which events it
sends to whom, and that every way into a room asks the policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from redis.asyncio import Redis

from parley.access import Action, Kind, Role, Standing
from parley.conversations import Conversations, dm_id
from parley.errors import Refused
from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.members import MemberStore
from parley.storage.messages import MessageStore
from parley.storage.presence import PresenceStore
from parley.storage.rooms import RoomQuota, RoomStore
from parley.storage.users import UserStore
from tests.unit.support import make_message, new_name


class RecordingNotifier:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, dict[str, Any]]] = []

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        self.events.append(("user", username, event, dict(data)))

    async def to_room(self, room: str, event: str, data: Mapping[str, Any]) -> None:
        self.events.append(("room", room, event, dict(data)))

    def take(self) -> list[tuple[str, str, str]]:
        taken = [(to, whom, event) for to, whom, event, _ in self.events]
        self.events.clear()
        return taken


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def service(
    dynamo: DynamoClient, tables: TableNames, redis: Redis, notifier: RecordingNotifier
) -> Conversations:
    members = MemberStore(dynamo, tables.members, rooms_table=tables.rooms)
    return Conversations(
        rooms=RoomStore(dynamo, tables.rooms),
        members=members,
        messages=MessageStore(dynamo, tables.messages),
        users=UserStore(dynamo, tables.users, members=members),
        presence=PresenceStore(redis),
        quota=RoomQuota(redis),
        notifier=notifier,
    )


async def person(service: Conversations, prefix: str = "u") -> str:
    name = new_name(prefix)
    await service.users.create(username=name, password_hash="hash")
    return name


async def test_creating_a_room_makes_the_owner_and_tells_them(
    service: Conversations, notifier: RecordingNotifier
) -> None:
    ada = await person(service, "Ada")
    view = await service.create_room(ada, name=new_name("Plans"), kind=Kind.PRIVATE, topic="t")
    assert (view.role, view.room.kind, view.room.members) == (Role.OWNER, Kind.PRIVATE, 1)
    assert notifier.take() == [("user", ada, "room_added"), ("room", view.room.id, "member")]
    listed = await service.list_rooms(ada)
    assert [v.room.id for v in listed] == ["general", view.room.id]


async def test_a_private_room_is_a_missing_room_to_outsiders(service: Conversations) -> None:
    ada, eve = await person(service), await person(service)
    room = (await service.create_room(ada, name=new_name("secret"), kind=Kind.PRIVATE)).room
    for action in Action:
        with pytest.raises(Refused) as hidden:
            await service.access(eve, room.id, action)
        with pytest.raises(Refused) as missing:
            await service.access(eve, room.id + "-x", action)
        assert hidden.value.problem.code == missing.value.problem.code
        assert hidden.value.problem.message == f"No room '{room.id}'"


async def test_join_is_idempotent_and_tells_once(
    service: Conversations, notifier: RecordingNotifier
) -> None:
    ada, bob = await person(service), await person(service)
    room = (await service.create_room(ada, name=new_name("open"))).room
    notifier.take()
    first = await service.join(bob, room.id)
    again = await service.join(bob, room.id)
    assert first.role == again.role == Role.MEMBER
    assert again.room.members == 2
    assert notifier.take() == [("user", bob, "room_added"), ("room", room.id, "member")]
    found = await service.access(bob, room.id, Action.POST)
    assert found.standing == Standing(Role.MEMBER)


async def test_removal_ban_and_roles_send_their_events(
    service: Conversations, notifier: RecordingNotifier
) -> None:
    ada, bob = await person(service), await person(service)
    room = (await service.create_room(ada, name=new_name("team"), kind=Kind.PRIVATE)).room
    await service.add_member(ada, room.id, bob)
    notifier.take()
    assert (await service.set_role(ada, room.id, bob, Role.ADMIN)).role == Role.ADMIN
    assert notifier.take() == [("room", room.id, "member")]
    await service.remove_member(ada, room.id, bob, ban=True)
    assert notifier.take() == [("user", bob, "room_removed"), ("room", room.id, "member")]
    with pytest.raises(Refused) as gone:
        await service.access(bob, room.id, Action.READ)
    assert gone.value.problem.code == "not_found"
    with pytest.raises(Refused) as banned:
        await service.add_member(ada, room.id, bob)
    assert banned.value.problem.code == "forbidden"
    await service.unban(ada, room.id, bob)
    member, added = await service.add_member(ada, room.id, bob)
    assert (member.role, added) == (Role.MEMBER, True)


async def test_a_dm_is_one_room_per_pair_named_after_the_other(
    service: Conversations, notifier: RecordingNotifier
) -> None:
    ada, bob = await person(service, "Ada"), await person(service, "Bob")
    view, created = await service.open_dm(ada, bob.upper())
    assert (view.room.id, view.name, view.room.kind, created) == (
        dm_id(ada, bob),
        bob,
        Kind.DM,
        True,
    )
    assert sorted(notifier.take()) == sorted(
        [
            ("user", ada, "room_added"),
            ("user", bob, "room_added"),
            ("room", view.room.id, "member"),
            ("room", view.room.id, "member"),
        ]
    )
    back, created = await service.open_dm(bob, ada)
    assert (back.room.id, back.name, created) == (view.room.id, ada, False)
    mine, _ = await service.open_dm(ada, ada)
    assert mine.name == ada


async def test_the_read_marker_moves_forward_only_and_tells_the_user(
    service: Conversations, notifier: RecordingNotifier
) -> None:
    ada, bob = await person(service), await person(service)
    room = (await service.create_room(ada, name=new_name("talk"))).room
    await service.join(bob, room.id)
    older, newer = (
        make_message(room=room.id, username=ada),
        make_message(room=room.id, username=ada),
    )
    for message in (older, newer):
        await service.messages.put(message)
    assert (await service.get_room(bob, room.id)).unread == 2
    notifier.take()
    assert await service.mark_read(bob, room.id, newer.id) is True
    assert notifier.take() == [("user", bob, "read")]
    assert await service.mark_read(bob, room.id, older.id) is False
    assert notifier.take() == []
    view = await service.get_room(bob, room.id)
    assert (view.unread, view.last_read, view.last_message_id) == (0, newer.id, newer.id)
    with pytest.raises(Refused) as elsewhere:
        await service.mark_read(bob, room.id, make_message(room="general").id)
    assert elsewhere.value.problem.code == "not_found"
