"""POST /api/dms: a direct message with someone, one room per pair, whoever starts it."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from parley.api.deps import ConversationsDep, CurrentSession
from parley.api.schemas import WITH_BODY, DmStart, RoomPublic, error_responses

router = APIRouter(prefix="/api/dms", tags=["rooms"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RoomPublic, "description": "The pair's DM exists already"},
        **error_responses(401, 404, 409, *WITH_BODY),
    },
)
async def start_dm(
    body: DmStart, response: Response, session: CurrentSession, rooms: ConversationsDep
) -> RoomPublic:
    view, created = await rooms.open_dm(session.username, body.username)
    if not created:
        response.status_code = status.HTTP_200_OK
    return RoomPublic.model_validate(view.to_json())
