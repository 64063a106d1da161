"""GET/POST /api/rooms and the message history of a room."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from parley.api.deps import CurrentSession, ServicesDep
from parley.api.schemas import (
    WITH_BODY,
    ChangesPage,
    MessagePage,
    RoomCreate,
    RoomPublic,
    Ulid,
    error_responses,
)
from parley.errors import ErrorCode, Refused
from parley.ids import ulid_at
from parley.storage.rooms import ROOMS_PER_USER_PER_DAY, RoomExists, RoomQuota

# A change is in the changes index this long after its change id's time at the latest: its
# write starts as the id is drawn and takes milliseconds, and the index follows the table
# within a second (DynamoDB's global secondary indexes are eventually consistent). As for
# messages (parley/messaging.py VisibilityBound), a catch-up re-reads that much.
CHANGE_VISIBILITY_SECONDS = 10.0

router = APIRouter(prefix="/api/rooms", tags=["rooms"])

# A room id in a path: ids are at most 64 characters (a name's, at most), and a longer one
# would reach DynamoDB as a key it refuses outright (ValidationException), not as "no room".
RoomInPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", responses=error_responses(401))
async def list_rooms(_: CurrentSession, services: ServicesDep) -> list[RoomPublic]:
    return [RoomPublic.of(room) for room in await services.rooms.list()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 409, 429, *WITH_BODY),
)
async def create_room(
    body: RoomCreate, session: CurrentSession, services: ServicesDep
) -> RoomPublic:
    quota = RoomQuota(services.redis)
    wait = await quota.take(session.username)
    if wait is not None:
        raise Refused(
            ErrorCode.RATE_LIMITED,
            f"Too many rooms created today (at most {ROOMS_PER_USER_PER_DAY} a day)",
            retry_after=wait,
        )
    try:
        room = await services.rooms.create(name=body.name, created_by=session.username)
    except RoomExists as exists:
        await quota.give_back(session.username)
        raise Refused(ErrorCode.CONFLICT, f"A room with id '{exists}' already exists") from None
    except Exception:
        await quota.give_back(session.username)
        raise
    return RoomPublic.of(room)


@router.get("/{room}/messages", responses=error_responses(401, 404, 422))
async def history(
    room: RoomInPath,
    _: CurrentSession,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[Ulid | None, Query()] = None,
    after: Annotated[Ulid | None, Query()] = None,
) -> MessagePage:
    if before is not None and after is not None:
        raise Refused(ErrorCode.INVALID, "before and after cannot be combined")
    if not await services.rooms.exists(room):
        raise Refused(ErrorCode.NOT_FOUND, f"No room '{room}'")
    store = services.messages
    if before is not None:
        page = await store.before(room, before=before, limit=limit)
    elif after is not None:
        page = await store.after(room, after=after, limit=limit)
    else:
        page = await store.latest(room, limit=limit)
    return MessagePage.of(page)


@router.get("/{room}/changes", responses=error_responses(401, 404, 422))
async def changes(
    room: RoomInPath,
    _: CurrentSession,
    services: ServicesDep,
    since: Annotated[Ulid, Query()],
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> ChangesPage:
    """The room's messages edited, deleted or reacted to after the sync point `since`, in the
    order of their changes; a reconnecting client merges them by id (docs/reference.md,
    "Catching up after a disconnect")."""
    if not await services.rooms.exists(room):
        raise Refused(ErrorCode.NOT_FOUND, f"No room '{room}'")
    # Taken before the read: a change whose id is older than this is in the index by now.
    sync = ulid_at(time.time() - CHANGE_VISIBILITY_SECONDS)
    page = await services.messages.changes(room, since=since, limit=limit)
    return ChangesPage.of_changes(page, sync=sync)
