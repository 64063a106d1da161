"""The members table: memberships and bans, with the room's counts and each user's tally
changing in the same transaction, so a refused change leaves nothing half-written."""

from __future__ import annotations

import pytest

from parley.access import Kind, Role, RoomRecord, Standing
from parley.storage import members as member_store
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.members import (
    MAX_ROOMS_PER_USER,
    TALLY,
    LastOwner,
    MemberStore,
    NotAMember,
    RoomMissing,
    RoomTaken,
    TooManyRooms,
)
from parley.storage.rooms import RoomStore, room_id_for
from parley.storage.users import UsernameTaken, UserStore
from tests.unit.support import make_message, new_name, refused


@pytest.fixture
def members(dynamo: DynamoClient, tables: TableNames) -> MemberStore:
    return MemberStore(dynamo, tables.members, rooms_table=tables.rooms)


@pytest.fixture
def rooms(dynamo: DynamoClient, tables: TableNames) -> RoomStore:
    return RoomStore(dynamo, tables.rooms)


async def make_room(members: MemberStore, owner: str, kind: Kind = Kind.PUBLIC) -> RoomRecord:
    name = new_name("room")
    return await members.create_room(
        RoomRecord(id=room_id_for(name), name=name, kind=kind), owner=owner
    )


async def counts(rooms: RoomStore, room_id: str) -> tuple[int, int]:
    room = await rooms.get(room_id)
    assert room is not None
    return room.members, room.owners


async def test_a_room_is_made_with_its_owner(members: MemberStore, rooms: RoomStore) -> None:
    ada = new_name("Ada")
    room = await make_room(members, ada)
    membership = await members.get(room.id, ada.upper())
    assert membership is not None
    assert (membership.username, membership.standing) == (ada, Standing(Role.OWNER))
    assert await counts(rooms, room.id) == (1, 1)
    assert [m.room for m in await members.rooms_of(ada)] == [room.id]
    assert await members.tally(ada) == 1


async def test_a_taken_id_makes_nothing(members: MemberStore) -> None:
    ada, bob = new_name("ada"), new_name("bob")
    room = await make_room(members, ada)
    with pytest.raises(RoomTaken):
        await members.create_room(RoomRecord(id=room.id, name=room.name), owner=bob)
    assert await members.get(room.id, bob) is None
    assert await members.tally(bob) == 0


async def test_joining_is_idempotent_and_counted(members: MemberStore, rooms: RoomStore) -> None:
    ada, bob = new_name("ada"), new_name("bob")
    room = await make_room(members, ada)
    assert await members.join(room.id, bob) is True
    assert await members.join(room.id, bob) is False
    assert await counts(rooms, room.id) == (2, 1)
    assert await members.tally(bob) == 1
    assert await members.standing(room.id, bob) == Standing(Role.MEMBER)
    assert await members.among(room.id, [ada.upper(), bob, "nobody"]) == {ada.lower(), bob.lower()}
    listed = await members.of_room(room.id)
    assert sorted(m.username for m in listed) == sorted([ada, bob])


async def test_joining_a_missing_room_makes_nothing(members: MemberStore) -> None:
    bob = new_name("bob")
    with pytest.raises(RoomMissing):
        await members.join(new_name("nowhere"), bob)
    assert await members.tally(bob) == 0


async def test_the_cap_on_rooms_refuses_the_next_and_writes_nothing(
    members: MemberStore, rooms: RoomStore, dynamo: DynamoClient, tables: TableNames
) -> None:
    ada, bob = new_name("ada"), new_name("bob")
    room = await make_room(members, ada)
    await dynamo.put_item(
        TableName=tables.members,
        Item={"room": {"S": TALLY}, "user": {"S": bob}, "count": {"N": str(MAX_ROOMS_PER_USER)}},
    )
    with pytest.raises(TooManyRooms):
        await members.join(room.id, bob)
    assert await members.get(room.id, bob) is None
    assert await counts(rooms, room.id) == (1, 1)
    with pytest.raises(TooManyRooms):
        await make_room(members, bob)


async def test_the_only_owner_cannot_leave_while_others_remain(
    members: MemberStore, rooms: RoomStore
) -> None:
    ada, bob = new_name("ada"), new_name("bob")
    room = await make_room(members, ada)
    await members.join(room.id, bob)
    owner = await members.get(room.id, ada)
    assert owner is not None
    with pytest.raises(LastOwner):
        await members.leave(owner)
    assert await counts(rooms, room.id) == (2, 1)
    with pytest.raises(LastOwner):
        await members.set_role(owner, Role.MEMBER)
    # With a second owner, the first may go; alone, the last may go too.
    bob_member = await members.get(room.id, bob)
    assert bob_member is not None
    await members.set_role(bob_member, Role.OWNER)
    assert await counts(rooms, room.id) == (2, 2)
    await members.leave(owner)
    assert await counts(rooms, room.id) == (1, 1)
    assert await members.tally(ada) == 0
    bob_owner = await members.get(room.id, bob)
    assert bob_owner is not None
    await members.leave(bob_owner)
    assert await counts(rooms, room.id) == (0, 0)
    with pytest.raises(NotAMember):
        await members.leave(bob_owner)


async def test_a_ban_ends_the_membership_and_keeps_the_user_out(
    members: MemberStore, rooms: RoomStore
) -> None:
    ada, bob, eve = new_name("ada"), new_name("bob"), new_name("eve")
    room = await make_room(members, ada)
    await members.join(room.id, bob)
    bob_member = await members.get(room.id, bob)
    await members.ban(room.id, bob, bob_member)
    assert await members.standing(room.id, bob) == Standing(banned=True)
    assert await members.join(room.id, bob) is False  # the ban item stands in the way
    assert await counts(rooms, room.id) == (1, 1)
    assert await members.rooms_of(bob) == []
    assert await members.among(room.id, [bob]) == set()
    await members.ban(room.id, eve, None)  # not a member: banned all the same
    assert await members.standing(room.id, eve) == Standing(banned=True)
    assert await members.unban(room.id, bob) is True
    assert await members.unban(room.id, bob) is False
    assert await members.join(room.id, bob) is True


async def test_the_lists_of_members_and_of_bans_stop_at_the_cap(
    members: MemberStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_store, "MAX_MEMBERS_LISTED", 3)
    room = await make_room(members, new_name("ada"))
    for _ in range(4):
        await members.join(room.id, new_name("bob"))
        await members.ban(room.id, new_name("eve"), None)
    assert len(await members.of_room(room.id)) == 3  # of 5 members
    assert len(await members.bans_of(room.id)) == 3  # of 4 bans
    assert all(ban.banned for ban in await members.bans_of(room.id))


async def test_a_dm_is_made_once_with_both_people(members: MemberStore, rooms: RoomStore) -> None:
    ada, bob = new_name("Ada"), new_name("bob")
    dm_id = new_name("dm")
    dm = RoomRecord(id=dm_id, name=f"{ada}, {bob}", kind=Kind.DM, pair=(ada, bob))
    assert await members.create_dm(dm, [ada, bob]) is True
    assert await members.create_dm(dm, [bob, ada]) is False
    stored = await rooms.get(dm_id)
    assert stored is not None
    assert (stored.kind, stored.pair, stored.members) == (Kind.DM, (ada, bob), 2)
    self_dm = RoomRecord(id=new_name("dm"), name=ada, kind=Kind.DM, pair=(ada, ada))
    assert await members.create_dm(self_dm, [ada, ada]) is True
    assert await members.tally(ada) == 2


async def test_the_read_marker_never_moves_back(members: MemberStore) -> None:
    ada = new_name("ada")
    room = await make_room(members, ada)
    older, newer = make_message().id, make_message().id
    assert await members.mark_read(room.id, ada, newer) is True
    assert await members.mark_read(room.id, ada, older) is False
    assert await members.mark_read(room.id, ada, newer) is False
    membership = await members.get(room.id, ada)
    assert membership is not None
    assert membership.last_read == newer
    assert await members.mark_read(room.id, new_name("stranger"), newer) is False


async def test_a_new_account_is_a_member_of_general_from_the_start(
    members: MemberStore, rooms: RoomStore, dynamo: DynamoClient, tables: TableNames
) -> None:
    users = UserStore(dynamo, tables.users, members=members)
    before, _ = await counts(rooms, "general")
    name = new_name("Newcomer")
    await users.create(username=name, password_hash="hash")
    assert await members.standing("general", name) == Standing(Role.MEMBER)
    with pytest.raises(UsernameTaken):
        await users.create(username=name.lower(), password_hash="other")
    # The same registration again (a retry of a write whose answer was lost) succeeds, and
    # counts once.
    assert (await users.create(username=name, password_hash="hash")).username == name
    after, _ = await counts(rooms, "general")
    assert after == before + 1
    assert await members.tally(name) == 1


async def test_dynamodb_away_is_storage_unavailable(
    members: MemberStore, dynamo: DynamoClient
) -> None:
    with refused(dynamo, "TransactWriteItems"), pytest.raises(StorageUnavailable):
        await members.join("general", new_name("bob"))
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await members.get("general", "bob")
    with refused(dynamo, "Query"), pytest.raises(StorageUnavailable):
        await members.rooms_of("bob")


async def test_a_dm_with_someone_in_too_many_rooms_makes_nothing(
    members: MemberStore, rooms: RoomStore, dynamo: DynamoClient, tables: TableNames
) -> None:
    ada, bob = new_name("ada"), new_name("bob")
    await dynamo.put_item(
        TableName=tables.members,
        Item={"room": {"S": TALLY}, "user": {"S": bob}, "count": {"N": str(MAX_ROOMS_PER_USER)}},
    )
    dm = RoomRecord(id=new_name("dm"), name="dm", kind=Kind.DM, pair=(ada, bob))
    with pytest.raises(TooManyRooms) as full:
        await members.create_dm(dm, [ada, bob])
    assert full.value.username == bob
    assert await rooms.get(dm.id) is None
    assert await members.tally(ada) == 0
