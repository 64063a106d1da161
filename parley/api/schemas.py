"""Request and response bodies of the HTTP API (docs/reference.md, "HTTP routes")."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from parley.errors import ErrorCode
from parley.ids import ULID_PATTERN
from parley.models import MessageJSON, Page, Room
from parley.storage.rooms import room_id_for
from parley.storage.sessions import Session, SessionInfo

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
]
Password = Annotated[str, Field(min_length=8, max_length=128)]
Ulid = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(Strict):
    username: Username
    password: Password


class UserPublic(BaseModel):
    username: str


# Characters a room name may not hold (Unicode general categories): controls (Cc), format
# characters (Cf: the bidi controls that reorder what follows, zero-width joiners and spaces),
# line and paragraph separators (Zl, Zp), private use (Co), surrogates (Cs), unassigned (Cn).
# Spaces and every printable letter, mark, digit, punctuation and symbol pass.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


class PasswordChange(Strict):
    # Not `Password`: the current password is only checked, never judged by today's rules.
    current: Annotated[str, Field(min_length=1, max_length=128)]
    new: Password


class SessionPublic(BaseModel):
    id: str
    createdAt: str
    lastSeenAt: str
    userAgent: str
    current: bool

    @classmethod
    def of(cls, info: SessionInfo, *, current: Session) -> SessionPublic:
        return cls(
            id=info.id,
            createdAt=info.created_at,
            lastSeenAt=info.last_seen_at,
            userAgent=info.user_agent,
            current=info.id == current.id,
        )


class RoomCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]

    @field_validator("name")
    @classmethod
    def _printable_with_id(cls, name: str) -> str:
        # NFKC folds compatibility lookalikes (fullwidth, mathematical bold, ligatures) into
        # the characters they stand for: fullwidth "general" (U+FF47...) is "general", whose id
        # is taken.
        name = unicodedata.normalize("NFKC", name)
        if any(unicodedata.category(char) in UNPRINTABLE_CATEGORIES for char in name):
            raise ValueError("must be printable text, without control or formatting characters")
        if len(name) > 64:
            raise ValueError("must be at most 64 characters")
        if not room_id_for(name):
            raise ValueError("must contain at least one letter or digit")
        return name


class RoomPublic(BaseModel):
    id: str
    name: str

    @classmethod
    def of(cls, room: Room) -> RoomPublic:
        return cls(id=room.id, name=room.name)


class QuotePublic(BaseModel):
    id: str
    username: str
    text: str


class ReactionPublic(BaseModel):
    emoji: str
    users: list[str]


class MessagePublic(BaseModel):
    id: str
    room: str
    username: str
    text: str
    createdAt: str
    clientId: str | None
    editedAt: str | None
    deleted: bool
    replyTo: QuotePublic | None
    reactions: list[ReactionPublic]
    mentions: list[str]


class MessagePage(BaseModel):
    messages: list[MessagePublic]
    next: str | None

    @classmethod
    def of(cls, page: Page) -> MessagePage:
        messages: list[MessageJSON] = [message.to_json() for message in page.messages]
        return cls.model_validate({"messages": messages, "next": page.next})


class ChangesPage(MessagePage):
    sync: str = Field(description="The `since` of the next catch-up, after a later disconnect")

    @classmethod
    def of_changes(cls, page: Page, *, sync: str) -> ChangesPage:
        messages: list[MessageJSON] = [message.to_json() for message in page.messages]
        return cls.model_validate({"messages": messages, "next": page.next, "sync": sync})


class ErrorBody(BaseModel):
    """Every error answer (parley.errors): each status below carries one code."""

    error: str
    code: ErrorCode


class RetryableErrorBody(ErrorBody):
    retryAfter: Annotated[float, Field(ge=0, description="Seconds to wait before trying again")]


class UnauthorizedError(ErrorBody):
    code: Literal[ErrorCode.UNAUTHORIZED]
    redirect: str | None = Field(None, description="Where to log in, when the session is missing")


class ForbiddenError(ErrorBody):
    code: Literal[ErrorCode.FORBIDDEN]


class NotFoundError(ErrorBody):
    code: Literal[ErrorCode.NOT_FOUND]


class ConflictError(ErrorBody):
    code: Literal[ErrorCode.CONFLICT]


class TooLargeError(ErrorBody):
    code: Literal[ErrorCode.TOO_LARGE]


class UnsupportedError(ErrorBody):
    code: Literal[ErrorCode.UNSUPPORTED]


class InvalidError(ErrorBody):
    code: Literal[ErrorCode.INVALID]


class RateLimitedError(RetryableErrorBody):
    code: Literal[ErrorCode.RATE_LIMITED]


class UnavailableError(RetryableErrorBody):
    code: Literal[ErrorCode.UNAVAILABLE]


class NotReady(UnavailableError):
    failed: list[str]


ERROR_BODIES: dict[int, type[ErrorBody]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    415: UnsupportedError,
    422: InvalidError,
    429: RateLimitedError,
    503: UnavailableError,
}
# Answers every route may give: Redis or DynamoDB not answering.
_ANY_ROUTE = (503,)
# Answers of every route with a JSON body: cross-site (CSRF), too large, not JSON, invalid.
WITH_BODY = (403, 413, 415, 422)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of a route's error answers (always with 503)."""
    return {status: {"model": ERROR_BODIES[status]} for status in sorted({*statuses, *_ANY_ROUTE})}
