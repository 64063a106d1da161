"""Members table: one item per (room, user) — a membership with its role and read marker, or a
ban — and the sparse `by-user` index of each user's memberships (docs/design/conversations.md,
"Tables"). Every change of more than one item is one TransactWriteItems: a membership and its
room's counts change together or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.access import NOBODY, Role, RoomRecord, Standing
from parley.ids import iso_utc
from parley.storage.dynamo import (
    BY_USER_INDEX,
    DynamoClient,
    cancellation_reasons,
    is_conditional_failure,
    unavailable_on_failure,
)
from parley.storage.rooms import BATCH_GET_KEYS, GENERAL_ID, batch_get, room_item

Item = dict[str, dict[str, Any]]
Write = dict[str, Any]  # one entry of TransactItems

# A user is a member of at most this many rooms (general and DMs count): the `count` of the
# user's tally item, checked in the same transaction as each membership it counts.
MAX_ROOMS_PER_USER = 500
# The tally items' partition: not a room id (ids are `a-z0-9-`), and without `memberOf`, so
# never in the by-user index. Kept here, not on the user item, so the socket tier (which
# never reads accounts) can make a public room's reader a member.
TALLY = "#rooms"
# GET /api/rooms/{room}/members lists at most this many members.
MAX_MEMBERS_LISTED = 1000

_CONDITION_FAILED = "ConditionalCheckFailed"


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


class NotAMember(Exception):
    """The membership to change is not there (any longer), or not with that role."""


class LastOwner(Exception):
    """The room's only owner cannot leave, be removed or step down while others remain."""


class TooManyRooms(Exception):
    def __init__(self, username: str) -> None:
        super().__init__(username)
        self.username = username


class RoomMissing(Exception):
    """The room to join does not exist."""


class RoomTaken(Exception):
    """A room with that id exists already."""


@dataclass(frozen=True, slots=True)
class Membership:
    room: str
    username: str  # as registered
    role: Role | None  # None: a ban
    banned: bool = False
    last_read: str | None = None
    joined_at: str = ""
    banned_at: str = ""

    @property
    def standing(self) -> Standing:
        return Standing(role=self.role, banned=self.banned)


def _membership(item: Item) -> Membership:
    is_member = "memberOf" in item
    role_value = str(item.get("role", {}).get("S", ""))
    return Membership(
        room=item["room"]["S"],
        username=item.get("username", item["user"])["S"],
        role=Role(role_value) if is_member and role_value in Role.__members__.values() else None,
        banned=bool(item.get("banned", {}).get("BOOL", False)),
        last_read=item.get("lastRead", {}).get("S"),
        joined_at=item.get("joinedAt", {}).get("S", ""),
        banned_at=item.get("bannedAt", {}).get("S", ""),
    )


def _key(room_id: str, username: str) -> Item:
    return {"room": {"S": room_id}, "user": {"S": username.lower()}}


class MemberStore:
    def __init__(self, client: DynamoClient, table: str, *, rooms_table: str) -> None:
        self._client = client
        self._table = table
        self._rooms = rooms_table

    # ------------------------------------------------------------------ reads

    async def get(self, room_id: str, username: str) -> Membership | None:
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key=_key(room_id, username), ConsistentRead=True
            )
        return _membership(response["Item"]) if "Item" in response else None

    async def standing(self, room_id: str, username: str) -> Standing:
        membership = await self.get(room_id, username)
        return NOBODY if membership is None else membership.standing

    async def rooms_of(self, username: str) -> list[Membership]:
        """The user's memberships (not bans): one Query of the by-user index (a few pages at
        most: MAX_ROOMS_PER_USER)."""
        found: list[Membership] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=BY_USER_INDEX,
                KeyConditionExpression="memberOf = :user",
                ExpressionAttributeValues={":user": {"S": username.lower()}},
            ):
                found.extend(_membership(item) for item in page.get("Items", []))
        return found

    async def of_user_in(self, username: str, room_ids: Iterable[str]) -> dict[str, Membership]:
        """The user's items (memberships or bans) in these rooms, by room, read consistently
        (the by-user index is eventually consistent: a marker just moved could read old)."""
        wanted = list(dict.fromkeys(room_ids))
        found: dict[str, Membership] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            keys = [_key(room_id, username) for room_id in wanted[start : start + BATCH_GET_KEYS]]
            for item in await batch_get(self._client, self._table, keys):
                membership = _membership(item)
                found[membership.room] = membership
        return found

    async def among(self, room_id: str, usernames: Iterable[str]) -> set[str]:
        """Which of these names (lower-cased) are members of the room: one BatchGetItem per
        100 names."""
        names = list(dict.fromkeys(name.lower() for name in usernames))
        members: set[str] = set()
        for start in range(0, len(names), BATCH_GET_KEYS):
            keys = [_key(room_id, name) for name in names[start : start + BATCH_GET_KEYS]]
            items = await batch_get(self._client, self._table, keys)
            members.update(item["user"]["S"] for item in items if "memberOf" in item)
        return members

    async def of_room(self, room_id: str) -> list[Membership]:
        """The room's members (not bans), at most MAX_MEMBERS_LISTED, by name."""
        return await self._in_room(room_id, "attribute_exists(memberOf)")

    async def bans_of(self, room_id: str) -> list[Membership]:
        """The room's bans, at most MAX_MEMBERS_LISTED, by name."""
        return await self._in_room(room_id, "banned = :yes", {":yes": {"BOOL": True}})

    async def _in_room(
        self, room_id: str, condition: str, values: Item | None = None
    ) -> list[Membership]:
        found: list[Membership] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="#room = :room",
                FilterExpression=condition,
                ExpressionAttributeNames={"#room": "room"},
                ExpressionAttributeValues={":room": {"S": room_id}, **(values or {})},
            ):
                found.extend(_membership(item) for item in page.get("Items", []))
                if len(found) >= MAX_MEMBERS_LISTED:
                    break
        return found[:MAX_MEMBERS_LISTED]

    # ------------------------------------------------------------------ writes

    async def create_room(self, room: RoomRecord, *, owner: str) -> RoomRecord:
        """The room and its owner's membership, together. Raises RoomTaken, TooManyRooms."""
        record = RoomRecord(
            id=room.id,
            name=room.name,
            kind=room.kind,
            topic=room.topic,
            members=1,
            owners=1,
            created_by=owner,
        )
        reasons = await self._transact(
            [
                self._put_room(record),
                self._put_member(room.id, owner, Role.OWNER),
                self._tally(owner, +1),
            ]
        )
        if reasons is not None:
            if reasons[0] == _CONDITION_FAILED:
                raise RoomTaken(room.id)
            raise TooManyRooms(owner)
        return record

    async def create_dm(self, room: RoomRecord, usernames: Sequence[str]) -> bool:
        """A DM and the membership of each of its people (one, or two), together; False when
        it exists already. Raises TooManyRooms."""
        people = list({name.lower(): name for name in usernames}.values())
        record = RoomRecord(
            id=room.id,
            name=room.name,
            kind=room.kind,
            members=len(people),
            created_by=room.created_by,
            pair=room.pair,
        )
        writes = [self._put_room(record)]
        writes += [self._put_member(room.id, name, Role.MEMBER) for name in people]
        writes += [self._tally(name, +1) for name in people]
        reasons = await self._transact(writes)
        if reasons is None:
            return True
        if reasons[0] == _CONDITION_FAILED:
            return False
        tallies = reasons[1 + len(people) :]
        full = [p for p, r in zip(people, tallies, strict=True) if r == _CONDITION_FAILED]
        if full:
            raise TooManyRooms(full[0])
        return False  # a membership of that id was there already: the DM exists

    async def join(self, room_id: str, username: str, role: Role = Role.MEMBER) -> bool:
        """Make the user a member; False when they are one already (or banned: the caller
        asked the policy first). Raises RoomMissing, TooManyRooms."""
        reasons = await self._transact(self.join_writes(room_id, username, role))
        if reasons is None:
            return True
        if reasons[0] == _CONDITION_FAILED:
            return False
        if reasons[1] == _CONDITION_FAILED:
            raise RoomMissing(room_id)
        raise TooManyRooms(username)

    def join_writes(self, room_id: str, username: str, role: Role = Role.MEMBER) -> list[Write]:
        """The membership, the room's counts and the user's tally (registration adds these to
        the user's creation: every account is a member of general)."""
        return [
            self._put_member(room_id, username, role),
            self._count(room_id, +1, owners=+1 if role is Role.OWNER else 0),
            self._tally(username, +1),
        ]

    def general_writes(self, username: str) -> list[Write]:
        return self.join_writes(GENERAL_ID, username)

    async def leave(self, membership: Membership) -> None:
        """End a membership (leaving, or a removal). Raises NotAMember, LastOwner."""
        await self._end(membership, self._delete_member(membership))

    async def ban(self, room_id: str, username: str, membership: Membership | None) -> None:
        """Ban the user: their membership (if any) ends and becomes a ban. Raises NotAMember
        (the membership changed meanwhile), LastOwner."""
        ban = self._put_ban(room_id, username)
        if membership is None or membership.role is None:
            ban["Put"]["ConditionExpression"] = "attribute_not_exists(memberOf)"
            reasons = await self._transact([ban])
            if reasons is not None:
                raise NotAMember(username)
            return
        ban["Put"]["ConditionExpression"] = "#role = :role AND attribute_exists(memberOf)"
        ban["Put"]["ExpressionAttributeNames"] = {"#role": "role"}
        ban["Put"]["ExpressionAttributeValues"] = {":role": {"S": membership.role.value}}
        await self._end(membership, ban)

    async def unban(self, room_id: str, username: str) -> bool:
        """Lift a ban; False when there was none."""
        with unavailable_on_failure():
            try:
                await self._client.delete_item(
                    TableName=self._table,
                    Key=_key(room_id, username),
                    ConditionExpression="banned = :yes",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                )
            except ClientError as exc:
                if is_conditional_failure(exc):
                    return False
                raise
        return True

    async def set_role(self, membership: Membership, role: Role) -> None:
        """Change a member's role (the room's owner count follows). Raises NotAMember,
        LastOwner (the only owner stepping down)."""
        old = membership.role
        if old is None:
            raise NotAMember(membership.username)
        update: Write = {
            "Update": {
                "TableName": self._table,
                "Key": _key(membership.room, membership.username),
                "UpdateExpression": "SET #role = :new",
                "ConditionExpression": "#role = :old AND attribute_exists(memberOf)",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {":new": {"S": role.value}, ":old": {"S": old.value}},
            }
        }
        owners = (role is Role.OWNER) - (old is Role.OWNER)
        writes = [update]
        if owners:
            writes.append(self._count(membership.room, 0, owners=owners, last_owner=owners < 0))
        reasons = await self._transact(writes)
        if reasons is not None:
            if reasons[0] == _CONDITION_FAILED:
                raise NotAMember(membership.username)
            raise LastOwner(membership.room)

    async def mark_read(self, room_id: str, username: str, message_id: str) -> bool:
        """Move the member's read marker to `message_id` if that is newer; True when it moved
        (it never moves back)."""
        with unavailable_on_failure():
            try:
                await self._client.update_item(
                    TableName=self._table,
                    Key=_key(room_id, username),
                    UpdateExpression="SET lastRead = :id",
                    ConditionExpression=(
                        "attribute_exists(memberOf) AND "
                        "(attribute_not_exists(lastRead) OR lastRead < :id)"
                    ),
                    ExpressionAttributeValues={":id": {"S": message_id}},
                )
            except ClientError as exc:
                if is_conditional_failure(exc):
                    return False
                raise
        return True

    async def tally(self, username: str) -> int:
        """How many rooms the user is a member of, as counted for the cap."""
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key=_key(TALLY, username), ConsistentRead=True
            )
        return int(response.get("Item", {}).get("count", {}).get("N", "0"))

    # ------------------------------------------------------------------ the items

    async def _end(self, membership: Membership, change: Write) -> None:
        was_owner = membership.role is Role.OWNER
        reasons = await self._transact(
            [
                change,
                self._count(
                    membership.room, -1, owners=-1 if was_owner else 0, last_owner=was_owner
                ),
                self._tally(membership.username, -1),
            ]
        )
        if reasons is not None:
            if reasons[0] == _CONDITION_FAILED:
                raise NotAMember(membership.username)
            raise LastOwner(membership.room)

    async def _transact(self, writes: list[Write]) -> list[str] | None:
        """None when every write happened; else, when a condition refused it (and so none
        happened), each item's cancellation reason."""
        with unavailable_on_failure():
            try:
                await self._client.transact_write_items(TransactItems=writes)
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                if _CONDITION_FAILED in reasons:
                    return reasons
                raise
        return None

    def _put_room(self, room: RoomRecord) -> Write:
        return {
            "Put": {
                "TableName": self._rooms,
                "Item": room_item(room),
                "ConditionExpression": "attribute_not_exists(id)",
            }
        }

    def _put_member(self, room_id: str, username: str, role: Role) -> Write:
        item = _key(room_id, username) | {
            "username": {"S": username},
            "role": {"S": role.value},
            "joinedAt": {"S": now_iso()},
            "memberOf": {"S": username.lower()},
        }
        return {
            "Put": {
                "TableName": self._table,
                "Item": item,
                # Neither a member nor banned already.
                "ConditionExpression": "attribute_not_exists(#user)",
                "ExpressionAttributeNames": {"#user": "user"},
            }
        }

    def _put_ban(self, room_id: str, username: str) -> Write:
        item = _key(room_id, username) | {
            "username": {"S": username},
            "banned": {"BOOL": True},
            "bannedAt": {"S": now_iso()},
        }
        return {"Put": {"TableName": self._table, "Item": item}}

    def _delete_member(self, membership: Membership) -> Write:
        assert membership.role is not None
        return {
            "Delete": {
                "TableName": self._table,
                "Key": _key(membership.room, membership.username),
                "ConditionExpression": "#role = :role AND attribute_exists(memberOf)",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {":role": {"S": membership.role.value}},
            }
        }

    def _count(
        self, room_id: str, members: int, *, owners: int = 0, last_owner: bool = False
    ) -> Write:
        """The room's member and owner counts move by these; `last_owner` refuses an owner's
        going when they are the only owner and others remain."""
        sets = ["#members = if_not_exists(#members, :zero) + :members"]
        values: Item = {":zero": {"N": "0"}, ":members": {"N": str(members)}}
        names = {"#members": "members"}
        if owners:
            sets.append("#owners = if_not_exists(#owners, :zero) + :owners")
            values[":owners"] = {"N": str(owners)}
            names["#owners"] = "owners"
        condition = "attribute_exists(id)"
        if last_owner:
            condition += " AND (#owners > :one OR #members = :one)"
            values[":one"] = {"N": "1"}
            names["#owners"] = "owners"
        return {
            "Update": {
                "TableName": self._rooms,
                "Key": {"id": {"S": room_id}},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _tally(self, username: str, delta: int) -> Write:
        # A missing count starts at 0 (and a decrement of one leaves 0, never below).
        values: Item = {":start": {"N": str(max(-delta, 0))}, ":delta": {"N": str(delta)}}
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(TALLY, username),
            "UpdateExpression": "SET #count = if_not_exists(#count, :start) + :delta",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": values,
        }
        if delta > 0:
            update["ConditionExpression"] = "attribute_not_exists(#count) OR #count < :cap"
            values[":cap"] = {"N": str(MAX_ROOMS_PER_USER)}
        return {"Update": update}
