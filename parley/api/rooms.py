"""Rooms as conversations (docs/reference.md, "Conversations"): the caller's rooms, the
directory, creating, renaming, joining and leaving, members, roles and bans, read markers and
history. Each route authenticates, validates and calls one method of `Conversations`."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from parley.access import Action, Kind, Role
from parley.api.deps import ConversationsDep, CurrentSession, ServicesDep
from parley.api.schemas import (
    WITH_BODY,
    BanPublic,
    ChangesPage,
    DirectoryPage,
    MemberAdd,
    MemberPublic,
    MemberRole,
    MessagePage,
    ReadMarker,
    RoleChange,
    RoomChange,
    RoomCreate,
    RoomPublic,
    RoomWithMembers,
    Ulid,
    error_responses,
)
from parley.conversations import MemberView, RoomView
from parley.errors import ErrorCode, Refused
from parley.ids import ulid_at

# A change is in the changes index this long after its change id's time at the latest: its
# write starts as the id is drawn and takes milliseconds, and the index follows the table
# within a second (DynamoDB's global secondary indexes are eventually consistent). As for
# messages (parley/messaging.py VisibilityBound), a catch-up re-reads that much.
CHANGE_VISIBILITY_SECONDS = 10.0

router = APIRouter(prefix="/api/rooms", tags=["rooms"])

# A room id in a path: ids are at most 64 characters (a name's, at most; a DM's 35), and a
# longer one would reach DynamoDB as a key it refuses outright (ValidationException), not as
# "no room".
RoomInPath = Annotated[str, Path(min_length=1, max_length=64)]
UserInPath = Annotated[str, Path(min_length=1, max_length=64)]


def room_json(view: RoomView) -> RoomPublic:
    return RoomPublic.model_validate(view.to_json())


def room_with_members(view: RoomView) -> RoomWithMembers:
    return RoomWithMembers.model_validate(view.to_json())


@router.get("", responses=error_responses(401))
async def list_rooms(session: CurrentSession, rooms: ConversationsDep) -> list[RoomPublic]:
    return [room_json(view) for view in await rooms.list_rooms(session.username)]


@router.get("/directory", responses=error_responses(401, 422))
async def directory(
    session: CurrentSession,
    rooms: ConversationsDep,
    q: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DirectoryPage:
    views, next_cursor = await rooms.directory(
        session.username, query=q.strip(), limit=limit, cursor=cursor
    )
    return DirectoryPage(rooms=[room_with_members(view) for view in views], next=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 409, 429, *WITH_BODY),
)
async def create_room(
    body: RoomCreate, session: CurrentSession, rooms: ConversationsDep
) -> RoomPublic:
    view = await rooms.create_room(
        session.username, name=body.name, kind=Kind(body.kind), topic=body.topic
    )
    return room_json(view)


@router.get("/{room}", responses=error_responses(401, 403, 404, 422))
async def get_room(
    room: RoomInPath, session: CurrentSession, rooms: ConversationsDep
) -> RoomWithMembers:
    return room_with_members(await rooms.get_room(session.username, room))


@router.patch("/{room}", responses=error_responses(401, 404, *WITH_BODY))
async def update_room(
    room: RoomInPath, body: RoomChange, session: CurrentSession, rooms: ConversationsDep
) -> RoomPublic:
    view = await rooms.update_room(session.username, room, name=body.name, topic=body.topic)
    return room_json(view)


@router.post("/{room}/join", responses=error_responses(401, 403, 404, 409, 422))
async def join(
    room: RoomInPath, session: CurrentSession, rooms: ConversationsDep
) -> RoomWithMembers:
    return room_with_members(await rooms.join(session.username, room))


@router.post(
    "/{room}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def leave(room: RoomInPath, session: CurrentSession, rooms: ConversationsDep) -> None:
    await rooms.leave(session.username, room)


@router.get("/{room}/members", responses=error_responses(401, 403, 404, 422))
async def members(
    room: RoomInPath, session: CurrentSession, rooms: ConversationsDep
) -> list[MemberPublic]:
    found = await rooms.list_members(session.username, room)
    return [MemberPublic.model_validate(member.to_json()) for member in found]


def member_role(member: MemberView) -> MemberRole:
    return MemberRole(username=member.username, role=member.role.value)


@router.post(
    "/{room}/members",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": MemberRole, "description": "Already a member"},
        **error_responses(401, 404, 409, *WITH_BODY),
    },
)
async def add_member(
    room: RoomInPath,
    body: MemberAdd,
    response: Response,
    session: CurrentSession,
    rooms: ConversationsDep,
) -> MemberRole:
    member, added = await rooms.add_member(session.username, room, body.username)
    if not added:
        response.status_code = status.HTTP_200_OK
    return member_role(member)


@router.delete(
    "/{room}/members/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def remove_member(
    room: RoomInPath,
    username: UserInPath,
    session: CurrentSession,
    rooms: ConversationsDep,
    ban: bool = False,
) -> None:
    await rooms.remove_member(session.username, room, username, ban=ban)


@router.patch("/{room}/members/{username}", responses=error_responses(401, 404, 409, *WITH_BODY))
async def set_role(
    room: RoomInPath,
    username: UserInPath,
    body: RoleChange,
    session: CurrentSession,
    rooms: ConversationsDep,
) -> MemberRole:
    return member_role(await rooms.set_role(session.username, room, username, Role(body.role)))


@router.get("/{room}/bans", responses=error_responses(401, 403, 404, 409, 422))
async def bans(
    room: RoomInPath, session: CurrentSession, rooms: ConversationsDep
) -> list[BanPublic]:
    found = await rooms.list_bans(session.username, room)
    return [BanPublic.model_validate(ban.to_json()) for ban in found]


@router.delete(
    "/{room}/bans/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def unban(
    room: RoomInPath, username: UserInPath, session: CurrentSession, rooms: ConversationsDep
) -> None:
    await rooms.unban(session.username, room, username)


@router.post(
    "/{room}/read",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, *WITH_BODY),
)
async def mark_read(
    room: RoomInPath, body: ReadMarker, session: CurrentSession, rooms: ConversationsDep
) -> None:
    await rooms.mark_read(session.username, room, body.id)


@router.get("/{room}/messages", responses=error_responses(401, 403, 404, 422))
async def history(
    room: RoomInPath,
    session: CurrentSession,
    rooms: ConversationsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[Ulid | None, Query()] = None,
    after: Annotated[Ulid | None, Query()] = None,
) -> MessagePage:
    if before is not None and after is not None:
        raise Refused(ErrorCode.INVALID, "before and after cannot be combined")
    page = await rooms.history(session.username, room, limit=limit, before=before, after=after)
    return MessagePage.of(page)


@router.get("/{room}/changes", responses=error_responses(401, 403, 404, 422))
async def changes(
    room: RoomInPath,
    session: CurrentSession,
    rooms: ConversationsDep,
    services: ServicesDep,
    since: Annotated[Ulid, Query()],
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> ChangesPage:
    """The room's messages edited, deleted or reacted to after the sync point `since`, in the
    order of their changes; a reconnecting client merges them by id (docs/reference.md,
    "Catching up after a disconnect")."""
    await rooms.access(session.username, room, Action.READ)
    # Taken before the read: a change whose id is older than this is in the index by now.
    sync = ulid_at(time.time() - CHANGE_VISIBILITY_SECONDS)
    page = await services.messages.changes(room, since=since, limit=limit)
    return ChangesPage.of_changes(page, sync=sync)
