"""The domain's value types, shared by HTTP routes, socket handlers and the stream pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


class MessageJSON(TypedDict):
    id: str
    room: str
    username: str
    text: str
    createdAt: str
    clientId: str | None


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    room: str
    username: str
    text: str
    created_at: str
    client_id: str | None = None

    def to_json(self) -> MessageJSON:
        return {
            "id": self.id,
            "room": self.room,
            "username": self.username,
            "text": self.text,
            "createdAt": self.created_at,
            "clientId": self.client_id,
        }

    @classmethod
    def from_json(cls, data: MessageJSON) -> Message:
        return cls(
            id=data["id"],
            room=data["room"],
            username=data["username"],
            text=data["text"],
            created_at=data["createdAt"],
            client_id=data["clientId"],
        )


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class User:
    username: str  # as registered; lookups use its lower-cased form
    password_hash: str


@dataclass(frozen=True, slots=True)
class Page:
    messages: list[Message]
    next: str | None
