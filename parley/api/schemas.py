"""Request and response bodies of the HTTP API (docs/reference.md, "HTTP routes")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from parley.ids import ULID_PATTERN
from parley.models import MessageJSON, Page, Room
from parley.storage.rooms import room_id_for

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


class RoomCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]

    @field_validator("name")
    @classmethod
    def _has_id(cls, name: str) -> str:
        if not room_id_for(name):
            raise ValueError("must contain at least one letter or digit")
        return name


class RoomPublic(BaseModel):
    id: str
    name: str

    @classmethod
    def of(cls, room: Room) -> RoomPublic:
        return cls(id=room.id, name=room.name)


class MessagePublic(BaseModel):
    id: str
    room: str
    username: str
    text: str
    createdAt: str
    clientId: str | None


class MessagePage(BaseModel):
    messages: list[MessagePublic]
    next: str | None

    @classmethod
    def of(cls, page: Page) -> MessagePage:
        messages: list[MessageJSON] = [message.to_json() for message in page.messages]
        return cls.model_validate({"messages": messages, "next": page.next})


class ErrorBody(BaseModel):
    error: str
    redirect: str | None = None


# Answers every route may give: Redis or DynamoDB not answering.
_ANY_ROUTE = (503,)
# Answers of every route with a JSON body: cross-site (CSRF), too large, not JSON, invalid.
WITH_BODY = (403, 413, 415, 422)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of a route's error answers (always with 503)."""
    return {code: {"model": ErrorBody} for code in sorted({*codes, *_ANY_ROUTE})}
