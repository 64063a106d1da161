"""Conversations: rooms with members, private rooms, direct messages, roles, bans and read
markers (docs/design/conversations.md, "The service"). One method per HTTP route, plus what
the socket side asks (`access`, `join`, `mark_read`). Every method reaches its
room through `access`, which asks the one policy function (parley.access); events go out
through a Notifier, to a user's sockets on every instance or to a room's."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from parley.access import Action, Kind, Role, RoomRecord, Standing, authorize, no_room
from parley.errors import ErrorCode, Refused
from parley.models import Page
from parley.storage.members import (
    MAX_ROOMS_PER_USER,
    LastOwner,
    Membership,
    MemberStore,
    NotAMember,
    RoomMissing,
    RoomTaken,
    TooManyRooms,
)
from parley.storage.messages import MessageStore, ReadCounts
from parley.storage.presence import PresenceStore
from parley.storage.rooms import (
    GENERAL_ID,
    ROOMS_PER_USER_PER_DAY,
    BadCursor,
    RoomQuota,
    RoomStore,
    room_id_for,
)
from parley.storage.users import UserStore

# The room list counts unread messages of this many rooms at once (one bounded Query each).
COUNTS_AT_ONCE = 10

T = TypeVar("T")


class Notifier(Protocol):
    """Events to every socket of a user (`user:<name>`), or to a room's sockets (`room:<id>`),
    on every instance."""

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        """`skip_sid`: the socket that caused the event, which knows already."""

    async def to_room(self, room: str, event: str, data: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Access:
    """What `Conversations.access` found: the room and the caller's place in it."""

    room: RoomRecord
    standing: Standing
    membership: Membership | None = None


@dataclass(frozen=True, slots=True)
class RoomView:
    """The contract's room object, as one caller sees it."""

    room: RoomRecord
    name: str
    role: Role | None
    unread: int = 0
    mentions: int = 0
    last_read: str | None = None
    last_message_id: str | None = None
    with_members: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.room.id,
            "name": self.name,
            "kind": self.room.kind.value,
            "topic": self.room.topic,
            "role": None if self.role is None else self.role.value,
            "unread": self.unread,
            "mentions": self.mentions,
            "lastRead": self.last_read,
            "lastMessageId": self.last_message_id,
        }
        if self.with_members:
            body["members"] = self.room.members
        return body


@dataclass(frozen=True, slots=True)
class MemberView:
    username: str
    role: Role
    online: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role.value, "online": self.online}


@dataclass(frozen=True, slots=True)
class BanView:
    username: str
    banned_at: str  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "bannedAt": self.banned_at}


def dm_id(first: str, second: str) -> str:
    """The one id of a pair's DM, whoever starts it; it says nothing about who they are."""
    pair = "\n".join(sorted((first.lower(), second.lower())))
    return "dm-" + hashlib.sha256(pair.encode()).hexdigest()[:32]


def shown_name(room: RoomRecord, username: str) -> str:
    """A DM is named after the other person (your own name for a DM with yourself)."""
    if room.kind is not Kind.DM or room.pair is None:
        return room.name
    first, second = room.pair
    return second if first.lower() == username.lower() else first


def shared_json(room: RoomRecord) -> dict[str, Any]:
    """A room's fields that are the same for everyone (`room_updated`)."""
    return {
        "id": room.id,
        "name": room.name,
        "kind": room.kind.value,
        "topic": room.topic,
        "members": room.members,
    }


def _too_many(username: str) -> Refused:
    return Refused(
        ErrorCode.CONFLICT,
        f"{username} is in too many rooms (at most {MAX_ROOMS_PER_USER}): leave one first",
    )


def _not_member(username: str, room_id: str) -> Refused:
    return Refused(ErrorCode.NOT_FOUND, f"{username} is not a member of '{room_id}'")


_LAST_OWNER = "The room's only owner cannot go while others remain: make someone else an owner"


class Conversations:
    def __init__(
        self,
        *,
        rooms: RoomStore,
        members: MemberStore,
        messages: MessageStore,
        users: UserStore,
        presence: PresenceStore,
        quota: RoomQuota,
        notifier: Notifier,
    ) -> None:
        self.rooms = rooms
        self.members = members
        self.messages = messages
        self.users = users
        self.presence = presence
        self.quota = quota
        self.notifier = notifier

    # ------------------------------------------------------------ the one way in

    async def access(
        self, username: str, room_id: str, action: Action, target: Standing | None = None
    ) -> Access:
        """The room and the caller's standing (two key lookups, at once), if the policy lets
        the caller do `action`; raises Refused."""
        room, membership = await asyncio.gather(
            self.rooms.get(room_id), self.members.get(room_id, username)
        )
        standing = Standing() if membership is None else membership.standing
        authorize(action, room, standing, target, room_id=room_id)
        assert room is not None
        return Access(room, standing, membership)

    # ------------------------------------------------------------ rooms

    async def list_rooms(self, username: str) -> list[RoomView]:
        """The caller's rooms (every kind), general first, then by name."""
        room_ids = [m.room for m in await self.members.rooms_of(username)]
        records, mine = await asyncio.gather(
            self.rooms.get_many(room_ids), self.members.of_user_in(username, room_ids)
        )
        pairs = [(records[r], mine[r]) for r in room_ids if r in records and r in mine]
        views = await _bounded(
            self._view(room, m, username) for room, m in pairs if m.role is not None
        )
        return sorted(views, key=lambda v: (v.room.id != GENERAL_ID, v.name.lower(), v.room.id))

    async def directory(
        self, username: str, *, query: str, limit: int, cursor: str | None
    ) -> tuple[list[RoomView], str | None]:
        try:
            page = await self.rooms.directory(query=query, limit=limit, cursor=cursor)
        except BadCursor:
            raise Refused(ErrorCode.INVALID, "cursor: not one this server gave") from None
        mine = await self.members.of_user_in(username, (room.id for room in page.rooms))
        views = await _bounded(
            self._view(room, mine.get(room.id), username, with_members=True) for room in page.rooms
        )
        return views, page.next

    async def create_room(
        self, username: str, *, name: str, kind: Kind = Kind.PUBLIC, topic: str = ""
    ) -> RoomView:
        wait = await self.quota.take(username)
        if wait is not None:
            raise Refused(
                ErrorCode.RATE_LIMITED,
                f"Too many rooms created today (at most {ROOMS_PER_USER_PER_DAY} a day)",
                retry_after=wait,
            )
        record = RoomRecord(id=room_id_for(name), name=name, kind=kind, topic=topic)
        try:
            room = await self.members.create_room(record, owner=username)
        except RoomTaken:
            await self.quota.give_back(username)
            raise Refused(
                ErrorCode.CONFLICT, f"A room with id '{record.id}' already exists"
            ) from None
        except TooManyRooms:
            await self.quota.give_back(username)
            raise _too_many(username) from None
        except Exception:
            await self.quota.give_back(username)
            raise
        view = RoomView(room, room.name, Role.OWNER, with_members=True)
        await self._added(room, username, Role.OWNER, view)
        return view

    async def get_room(self, username: str, room_id: str) -> RoomView:
        found = await self.access(username, room_id, Action.READ)
        return await self._view(found.room, found.membership, username, with_members=True)

    async def update_room(
        self, username: str, room_id: str, *, name: str | None, topic: str | None
    ) -> RoomView:
        found = await self.access(username, room_id, Action.MANAGE)
        room = await self.rooms.update(found.room, name=name, topic=topic)
        await self.notifier.to_room(room.id, "room_updated", shared_json(room))
        return await self._view(room, found.membership, username, with_members=True)

    async def join(self, username: str, room_id: str) -> RoomView:
        """Become a member (idempotent): the user gets `room_added`, the room `member`."""
        found = await self.access(username, room_id, Action.JOIN)
        if found.membership is None or found.membership.role is None:
            try:
                added = await self.members.join(room_id, username)
            except TooManyRooms:
                raise _too_many(username) from None
            except RoomMissing:
                raise no_room(room_id) from None
            found = await self.access(username, room_id, Action.JOIN)
            if added:
                view = await self._view(found.room, found.membership, username)
                await self._added(found.room, username, Role.MEMBER, view)
        return await self._view(found.room, found.membership, username, with_members=True)

    async def leave(self, username: str, room_id: str) -> None:
        found = await self.access(username, room_id, Action.LEAVE)
        assert found.membership is not None
        await self._end(found.membership, ban=False)

    async def open_dm(self, username: str, other: str) -> tuple[RoomView, bool]:
        """The pair's DM, made when new (True) or found (False), whoever started it."""
        other_name = await self._user(other)
        me = username  # the session's name is as registered
        first, second = sorted((me, other_name), key=str.lower)
        pair = (first, second)
        record = RoomRecord(
            id=dm_id(me, other_name),
            name=f"{first}, {second}",
            kind=Kind.DM,
            created_by=me,
            pair=pair,
        )
        try:
            created = await self.members.create_dm(record, pair)
        except TooManyRooms as many:
            raise _too_many(many.username) from None
        found = await self.access(username, record.id, Action.READ)
        if created:
            for person in dict.fromkeys(pair):
                membership = await self.members.get(record.id, person)
                view = await self._view(found.room, membership, person)
                await self._added(found.room, person, Role.MEMBER, view)
        view = await self._view(found.room, found.membership, username, with_members=True)
        return view, created

    # ------------------------------------------------------------ members

    async def list_members(self, username: str, room_id: str) -> list[MemberView]:
        found = await self.access(username, room_id, Action.READ)
        members, online = await asyncio.gather(
            self.members.of_room(found.room.id), self.presence.users(found.room.id)
        )
        here = {name.lower() for name in online}
        return sorted(
            (
                MemberView(m.username, m.role, m.username.lower() in here)
                for m in members
                if m.role is not None
            ),
            key=lambda view: view.username.lower(),
        )

    async def add_member(self, username: str, room_id: str, target: str) -> tuple[MemberView, bool]:
        """Add someone (True), or find them a member already (False)."""
        found = await self.access(username, room_id, Action.READ)
        name = await self._user(target)
        membership = await self.members.get(room_id, name)
        standing = Standing() if membership is None else membership.standing
        authorize(Action.ADD_MEMBER, found.room, found.standing, standing)
        if membership is not None and membership.role is not None:
            return MemberView(membership.username, membership.role), False
        try:
            added = await self.members.join(room_id, name)
        except TooManyRooms:
            raise _too_many(name) from None
        if not added:  # they joined, or were banned, meanwhile
            return await self.add_member(username, room_id, target)
        joined = await self.members.get(room_id, name)
        view = await self._view(found.room, joined, name)
        await self._added(found.room, name, Role.MEMBER, view)
        return MemberView(name, Role.MEMBER), True

    async def remove_member(
        self, username: str, room_id: str, target: str, *, ban: bool = False
    ) -> None:
        """Remove someone (removing yourself is leaving), and ban them when asked."""
        if target.lower() == username.lower() and not ban:
            return await self.leave(username, room_id)
        found = await self.access(username, room_id, Action.READ)
        name = await self._user(target)
        membership = await self.members.get(room_id, name)
        standing = Standing() if membership is None else membership.standing
        authorize(Action.REMOVE_MEMBER, found.room, found.standing, standing)
        if membership is not None and membership.role is not None:
            await self._end(membership, ban=ban)
        elif not ban:
            raise _not_member(name, room_id)
        elif not standing.banned:
            try:
                await self.members.ban(room_id, name, None)
            except NotAMember:  # they joined meanwhile
                return await self.remove_member(username, room_id, target, ban=ban)
        return None

    async def list_bans(self, username: str, room_id: str) -> list[BanView]:
        """Who is banned from the room: for its owners and admins, who may lift a ban."""
        found = await self.access(username, room_id, Action.READ)
        authorize(Action.REMOVE_MEMBER, found.room, found.standing)
        bans = await self.members.bans_of(found.room.id)
        return sorted(
            (BanView(ban.username, ban.banned_at) for ban in bans),
            key=lambda view: view.username.lower(),
        )

    async def unban(self, username: str, room_id: str, target: str) -> None:
        found = await self.access(username, room_id, Action.READ)
        name = await self._user(target)
        standing = await self.members.standing(room_id, name)
        authorize(Action.REMOVE_MEMBER, found.room, found.standing, standing)
        if not await self.members.unban(room_id, name):
            raise Refused(ErrorCode.NOT_FOUND, f"{name} is not banned from '{room_id}'")

    async def set_role(self, username: str, room_id: str, target: str, role: Role) -> MemberView:
        found = await self.access(username, room_id, Action.READ)
        name = await self._user(target)
        membership = await self.members.get(room_id, name)
        standing = Standing() if membership is None else membership.standing
        authorize(Action.SET_ROLE, found.room, found.standing, standing)
        if membership is None or membership.role is None:
            raise _not_member(name, room_id)
        if membership.role is not role:
            try:
                await self.members.set_role(membership, role)
            except NotAMember:
                raise _not_member(name, room_id) from None
            except LastOwner:
                raise Refused(ErrorCode.CONFLICT, _LAST_OWNER) from None
            member = {"room": room_id, "username": membership.username, "role": role.value}
            await self.notifier.to_room(room_id, "member", member)
        return MemberView(membership.username, role)

    # ------------------------------------------------------------ messages and markers

    async def history(
        self,
        username: str,
        room_id: str,
        *,
        limit: int,
        before: str | None = None,
        after: str | None = None,
    ) -> Page:
        await self.access(username, room_id, Action.READ)
        if before is not None:
            return await self.messages.before(room_id, before=before, limit=limit)
        if after is not None:
            return await self.messages.after(room_id, after=after, limit=limit)
        return await self.messages.latest(room_id, limit=limit)

    async def mark_read(
        self, username: str, room_id: str, message_id: str, *, from_socket: str | None = None
    ) -> bool:
        """Move the caller's read marker to this message of the room if it is newer (True);
        it never moves back. The caller's (other) sockets get `read`."""
        await self.access(username, room_id, Action.MARK_READ)
        if not await self.messages.exists(room_id, message_id):
            raise Refused(ErrorCode.NOT_FOUND, f"No message '{message_id}' in '{room_id}'")
        moved = await self.members.mark_read(room_id, username, message_id)
        if moved:
            await self.notifier.to_user(
                username, "read", {"room": room_id, "id": message_id}, skip_sid=from_socket
            )
        return moved

    # ------------------------------------------------------------ the parts

    async def _user(self, username: str) -> str:
        name = await self.users.exists(username)
        if name is None:
            raise Refused(ErrorCode.NOT_FOUND, f"No user '{username}'")
        return name

    async def _view(
        self,
        room: RoomRecord,
        membership: Membership | None,
        username: str,
        *,
        with_members: bool = False,
    ) -> RoomView:
        role = None if membership is None else membership.role
        last_read = None if role is None or membership is None else membership.last_read
        counts = await self.messages.read_counts(room.id, after=last_read, reader=username)
        if role is None:  # a public room's reader: nothing is unread for them
            counts = ReadCounts(0, 0, counts.last_message_id)
        return RoomView(
            room=room,
            name=shown_name(room, username),
            role=role,
            unread=counts.unread,
            mentions=counts.mentions,
            last_read=last_read,
            last_message_id=counts.last_message_id,
            with_members=with_members,
        )

    async def _added(self, room: RoomRecord, username: str, role: Role, view: RoomView) -> None:
        await self.notifier.to_user(username, "room_added", view.to_json())
        member = {"room": room.id, "username": username, "role": role.value}
        await self.notifier.to_room(room.id, "member", member)

    async def _end(self, membership: Membership, *, ban: bool) -> None:
        room_id, name = membership.room, membership.username
        try:
            if ban:
                await self.members.ban(room_id, name, membership)
            else:
                await self.members.leave(membership)
        except NotAMember:
            raise _not_member(name, room_id) from None
        except LastOwner:
            raise Refused(ErrorCode.CONFLICT, _LAST_OWNER) from None
        await self.notifier.to_user(name, "room_removed", {"room": room_id})
        await self.notifier.to_room(
            room_id, "member", {"room": room_id, "username": name, "role": None}
        )


async def _bounded(jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Run the jobs concurrently, at most COUNTS_AT_ONCE at a time, in order."""
    gate = asyncio.Semaphore(COUNTS_AT_ONCE)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))
