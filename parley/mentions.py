"""`@name` mentions: which usernames a text calls, which of them are members of the room (and
so mentioned: the message keeps their lower-cased names), and the `mention` event to each."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from parley.models import Message

# At most this many different names are looked up per message: a text naming more mentions
# only the first ones (a list of 50 people is a broadcast, not a mention).
MAX_MENTIONS = 20

# Code is quoted, not addressed: `@name` inside a code span or block mentions nobody.
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
# A username (3-32 of letters, digits, "_", ".", "-") after an "@" that does not follow a word
# character, so an e-mail address mentions nobody.
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_@])")


def mentioned_names(text: str) -> list[str]:
    """The lower-cased names a text mentions, in order of first mention, without repeats. A
    name followed by sentence punctuation ("thanks @bob.") is read without it too, since
    usernames may end in "." or "-"."""
    names: dict[str, None] = {}
    for match in _MENTION.finditer(_CODE.sub(" ", text)):
        name = match.group(1).lower()
        for candidate in (name, name.rstrip(".-")):
            if len(candidate) >= 3:
                names.setdefault(candidate)
        if len(names) >= MAX_MENTIONS:
            break
    return list(names)[:MAX_MENTIONS]


class MemberLookup(Protocol):
    async def among(self, room_id: str, usernames: Iterable[str]) -> set[str]:
        """Which of these lower-cased names are members of the room."""
        ...


class UserNotifier(Protocol):
    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None: ...


class Mentions:
    def __init__(self, members: MemberLookup, notifier: UserNotifier) -> None:
        self._members = members
        self._notifier = notifier

    async def resolve(self, room: str, text: str) -> tuple[str, ...]:
        """The room's members a text mentions (lower-cased, in order): one lookup of the
        named ones, and none at all (no cost on the message path) for a text naming nobody."""
        names = mentioned_names(text)
        if not names:
            return ()
        found = await self._members.among(room, names)
        return tuple(name for name in names if name in found)

    async def notify(self, message: Message) -> None:
        """`mention` to every socket of each person a new message mentions (not its author),
        whether or not they have the room open."""
        event = {"room": message.room, "message": message.to_json()}
        for name in message.mentions:
            if name != message.username.lower():
                await self._notifier.to_user(name, "mention", event)
