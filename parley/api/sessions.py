"""The caller's sessions: GET /api/auth/sessions, DELETE /api/auth/sessions/{id}, and
POST /api/auth/password, which ends every other session of the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from parley.accounts import TooManyAttempts, WeakPassword, WrongPassword
from parley.api.deps import ClientAddress, CurrentSession, EndSessionDep, ServicesDep
from parley.api.schemas import WITH_BODY, PasswordChange, SessionPublic, error_responses
from parley.errors import ErrorCode, Refused

router = APIRouter(prefix="/api/auth", tags=["sessions"])

# Public ids are 16 characters of URL-safe base64; anything much longer is no id of ours and
# is refused (422) without asking Redis.
MAX_ID_LENGTH = 64


@router.get("/sessions", responses=error_responses(401))
async def list_sessions(session: CurrentSession, services: ServicesDep) -> list[SessionPublic]:
    found = await services.sessions.for_user(session.username)
    return [SessionPublic.of(info, current=session) for info in found]


@router.delete(
    "/sessions/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
)
async def end_session(
    session_id: Annotated[str, Path(alias="id", max_length=MAX_ID_LENGTH)],
    session: CurrentSession,
    services: ServicesDep,
    end: EndSessionDep,
) -> Response:
    ended = await services.sessions.end(session.username, session_id)
    if ended is None:
        raise Refused(ErrorCode.NOT_FOUND, "No such session: it may have ended already")
    await end(ended.ref)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if ended.id == session.id:
        settings = services.settings
        response.delete_cookie(
            settings.cookie_name,
            path="/",
            secure=settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
    return response


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 429, *WITH_BODY),
)
async def change_password(
    body: PasswordChange,
    session: CurrentSession,
    services: ServicesDep,
    address: ClientAddress,
    end: EndSessionDep,
) -> None:
    try:
        ended = await services.accounts.change_password(
            session=session, current=body.current, new=body.new, address=address
        )
    except WeakPassword as weak:
        raise Refused(ErrorCode.INVALID, str(weak)) from None
    except TooManyAttempts as throttled:
        raise Refused(
            ErrorCode.RATE_LIMITED,
            "Too many wrong passwords, try again later",
            retry_after=throttled.retry_after,
        ) from None
    except WrongPassword:
        raise Refused(ErrorCode.FORBIDDEN, "The current password is wrong") from None
    for info in ended:
        await end(info.ref)
