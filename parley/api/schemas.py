"""Request and response bodies of the HTTP API (docs/reference.md, "HTTP routes")."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from parley.errors import ErrorCode
from parley.ids import ULID_PATTERN
from parley.models import MessageJSON, Page
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


def _printable(text: str) -> str:
    # NFKC folds compatibility lookalikes (fullwidth, mathematical bold, ligatures) into
    # the characters they stand for: fullwidth "general" (U+FF47...) is "general", whose id
    # is taken.
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(char) in UNPRINTABLE_CATEGORIES for char in text):
        raise ValueError("must be printable text, without control or formatting characters")
    return text


# Ids the routes under /api/rooms/ use for themselves (GET /api/rooms/directory).
RESERVED_ROOM_IDS = frozenset({"directory"})
MAX_TOPIC_LENGTH = 250


def _room_name(name: str) -> str:
    name = _printable(name)
    if len(name) > 64:
        raise ValueError("must be at most 64 characters")
    if not room_id_for(name):
        raise ValueError("must contain at least one letter or digit")
    if room_id_for(name) in RESERVED_ROOM_IDS:
        raise ValueError(f"'{room_id_for(name)}' is reserved: choose another name")
    return name


def _topic(topic: str) -> str:
    topic = _printable(topic)
    if len(topic) > MAX_TOPIC_LENGTH:
        raise ValueError(f"must be at most {MAX_TOPIC_LENGTH} characters")
    return topic


RoomName = Annotated[str, Field(min_length=1, max_length=64)]
Topic = Annotated[str, Field(max_length=MAX_TOPIC_LENGTH)]


class RoomCreate(Strict):
    name: RoomName
    kind: Literal["public", "private"] = "public"
    topic: Topic = ""

    @field_validator("name")
    @classmethod
    def _printable_with_id(cls, name: str) -> str:
        return _room_name(name)

    @field_validator("topic")
    @classmethod
    def _printable_topic(cls, topic: str) -> str:
        return _topic(topic)


class RoomChange(Strict):
    name: RoomName | None = None
    topic: Topic | None = None

    @field_validator("name")
    @classmethod
    def _printable_with_id(cls, name: str | None) -> str | None:
        return None if name is None else _room_name(name)

    @field_validator("topic")
    @classmethod
    def _printable_topic(cls, topic: str | None) -> str | None:
        return None if topic is None else _topic(topic)


class RoomPublic(BaseModel):
    """A room as the caller sees it (docs/reference.md, "Conversations")."""

    id: str
    name: str
    kind: Literal["public", "private", "dm"]
    topic: str
    role: Literal["owner", "admin", "member"] | None
    unread: int
    mentions: int
    lastRead: str | None
    lastMessageId: str | None


class RoomWithMembers(RoomPublic):
    members: int


class DirectoryPage(BaseModel):
    rooms: list[RoomWithMembers]
    next: str | None


class MemberAdd(Strict):
    username: Username


class DmStart(Strict):
    username: Username


class RoleChange(Strict):
    role: Literal["owner", "admin", "member"]


class MemberPublic(BaseModel):
    username: str
    role: Literal["owner", "admin", "member"]
    online: bool


class BanPublic(BaseModel):
    username: str
    bannedAt: str


class MemberRole(BaseModel):
    username: str
    role: Literal["owner", "admin", "member"]


class ReadMarker(Strict):
    id: Ulid


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
