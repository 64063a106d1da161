"""POST /api/auth/register, /login, /logout and GET /api/auth/me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from parley.accounts import InvalidCredentials, TooManyAttempts, WeakPassword
from parley.api.deps import (
    ClientAddress,
    CurrentSession,
    EndSessionDep,
    ServicesDep,
    session_key,
)
from parley.api.schemas import WITH_BODY, Credentials, UserPublic, error_responses
from parley.errors import ErrorCode, Refused
from parley.security_log import security_event
from parley.storage.sessions import session_ref
from parley.storage.users import UsernameTaken

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 429, *WITH_BODY),
)
async def register(body: Credentials, services: ServicesDep, address: ClientAddress) -> UserPublic:
    try:
        username = await services.accounts.register(
            username=body.username, password=body.password, address=address
        )
    except WeakPassword as weak:
        raise Refused(ErrorCode.INVALID, str(weak)) from None
    except TooManyAttempts as throttled:
        raise Refused(
            ErrorCode.RATE_LIMITED,
            "Too many registrations from your address, try again later",
            retry_after=throttled.retry_after,
        ) from None
    except UsernameTaken:
        raise Refused(ErrorCode.CONFLICT, "Username is already taken") from None
    return UserPublic(username=username)


@router.post("/login", responses=error_responses(401, 429, *WITH_BODY))
async def login(
    body: Credentials,
    request: Request,
    response: Response,
    services: ServicesDep,
    address: ClientAddress,
) -> UserPublic:
    previous = session_key(request, services)
    try:
        session = await services.accounts.login(
            username=body.username,
            password=body.password,
            address=address,
            user_agent=request.headers.get("user-agent", ""),
        )
    except TooManyAttempts as throttled:
        raise Refused(
            ErrorCode.RATE_LIMITED,
            "Too many failed logins, try again later",
            retry_after=throttled.retry_after,
        ) from None
    except InvalidCredentials:
        raise Refused(ErrorCode.UNAUTHORIZED, "Invalid username or password") from None
    if previous:
        # Whatever session the browser presented is replaced, never reused (session fixation).
        await services.sessions.delete(previous)
    settings = services.settings
    response.set_cookie(
        settings.cookie_name,
        session.key,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return UserPublic(username=session.username)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403))
async def logout(
    request: Request, services: ServicesDep, end_session: EndSessionDep, address: ClientAddress
) -> Response:
    key = session_key(request, services)
    if key:
        await services.sessions.delete(key)
        await end_session(session_ref(key))
        security_event("logged_out", session=session_ref(key), address=address)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    settings = services.settings
    response.delete_cookie(
        settings.cookie_name, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )
    return response


@router.get("/me", responses=error_responses(401))
async def me(session: CurrentSession) -> UserPublic:
    return UserPublic(username=session.username)
