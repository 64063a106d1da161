"""The domain's value types, shared by HTTP routes, socket handlers and the stream pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

# A reply quotes at most this much of its parent's text (code points).
QUOTE_LENGTH = 200


class QuoteJSON(TypedDict):
    id: str
    username: str
    text: str


class ReactionJSON(TypedDict):
    emoji: str
    users: list[str]


class MessageJSON(TypedDict):
    id: str
    room: str
    username: str
    text: str
    createdAt: str
    clientId: str | None
    editedAt: str | None
    deleted: bool
    replyTo: QuoteJSON | None
    reactions: list[ReactionJSON]
    mentions: list[str]


@dataclass(frozen=True, slots=True)
class Quote:
    """What a reply shows of its parent: the text cut to QUOTE_LENGTH, "" once it is deleted."""

    id: str
    username: str
    text: str

    @classmethod
    def of(cls, parent: Message) -> Quote:
        return cls(id=parent.id, username=parent.username, text=parent.text[:QUOTE_LENGTH])

    def to_json(self) -> QuoteJSON:
        return {"id": self.id, "username": self.username, "text": self.text}


@dataclass(frozen=True, slots=True)
class Reaction:
    emoji: str
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    room: str
    username: str
    text: str
    created_at: str
    client_id: str | None = None
    edited_at: str | None = None
    deleted: bool = False
    reply_to: Quote | None = None
    reactions: tuple[Reaction, ...] = ()  # in order of each emoji's first use
    mentions: tuple[str, ...] = ()

    def as_deleted(self) -> Message:
        """Its tombstone: what stays of a deleted message (docs/reference.md, `delete`)."""
        return Message(
            id=self.id,
            room=self.room,
            username=self.username,
            text="",
            created_at=self.created_at,
            deleted=True,
        )

    def to_json(self) -> MessageJSON:
        return {
            "id": self.id,
            "room": self.room,
            "username": self.username,
            "text": self.text,
            "createdAt": self.created_at,
            "clientId": self.client_id,
            "editedAt": self.edited_at,
            "deleted": self.deleted,
            "replyTo": self.reply_to.to_json() if self.reply_to is not None else None,
            "reactions": [{"emoji": r.emoji, "users": list(r.users)} for r in self.reactions],
            "mentions": list(self.mentions),
        }

    @classmethod
    def from_json(cls, data: MessageJSON) -> Message:
        """Also reads the JSON of before the rich fields (pending sends in Redis, 48 h)."""
        quote: Any = data.get("replyTo")
        return cls(
            id=data["id"],
            room=data["room"],
            username=data["username"],
            text=data["text"],
            created_at=data["createdAt"],
            client_id=data["clientId"],
            edited_at=data.get("editedAt"),
            deleted=bool(data.get("deleted", False)),
            reply_to=Quote(quote["id"], quote["username"], quote["text"]) if quote else None,
            reactions=tuple(
                Reaction(r["emoji"], tuple(r["users"])) for r in data.get("reactions", [])
            ),
            mentions=tuple(data.get("mentions", [])),
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
