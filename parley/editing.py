"""Changing a message after it was sent: edit, delete, react. The rules in one place, for every
entry point. Each change is one conditional write (parley/storage/messages.py: no read decides
what is written, so two people reacting at once both count), marked "delivered" before it is
made so the stream pipeline does not deliver it a second time, then broadcast to the room as
`message_updated`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import emoji as emoji_data

from parley.errors import ErrorCode, Refused
from parley.ids import iso_utc, new_ulid
from parley.mentions import Mentions
from parley.messaging import Broadcaster
from parley.models import Message
from parley.storage.dynamo import StorageUnavailable
from parley.storage.messages import (
    MAX_REACTION_KINDS,
    ItemTooLarge,
    MessageStore,
    NotApplied,
    clean_text,
)
from parley.storage.sends import DeliveryMarks

log = logging.getLogger(__name__)


class EditRefused(Refused):
    """The change was not made; the text is shown to the person who asked."""


def is_one_emoji(value: str) -> bool:
    """One emoji of the Unicode emoji data (https://unicode.org/Public/emoji/latest/), which
    the `emoji` package ships and follows release by release: a base emoji, a skin-tone or
    ZWJ sequence, a flag or a keycap, and so one grapheme cluster. A hand-written check of
    Unicode properties (or one grapheme of `regex`'s \\X) would let through a letter, a digit
    or a combining sequence; this one knows what is an emoji."""
    return bool(value) and emoji_data.is_emoji(value)


VARIATION_SELECTOR_16 = "\ufe0f"


def canonical_emoji(value: str) -> str | None:
    """`value` as the emoji data spells it, or None when it is not one emoji. Pickers and
    keyboards add the emoji presentation selector (U+FE0F) to emoji that need none ("👍️"):
    that is the same emoji, so it is taken and counted as "👍", not as a second reaction."""
    if is_one_emoji(value):
        return value
    bare = value.removesuffix(VARIATION_SELECTOR_16)
    return bare if bare != value and is_one_emoji(bare) else None


def _not_found(room: str, message_id: str) -> EditRefused:
    return EditRefused(ErrorCode.NOT_FOUND, f"No message '{message_id}' in room '{room}'")


def _deleted() -> EditRefused:
    return EditRefused(ErrorCode.CONFLICT, "This message was deleted")


class Editor:
    def __init__(
        self,
        *,
        messages: MessageStore,
        deliveries: DeliveryMarks,
        broadcaster: Broadcaster,
        mentions: Mentions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._mentions = mentions
        self._messages = messages
        self._deliveries = deliveries
        self._broadcaster = broadcaster
        self._clock = clock

    async def edit(
        self,
        *,
        username: str,
        room: str,
        message_id: str,
        text: str,
    ) -> Message:
        """Replace the text of the caller's own message (same rules as a new one); its mentions
        become those of the new text (nobody is told again: `mention` is for new messages)."""
        cleaned = clean_text(text)
        if cleaned is None:
            raise EditRefused(ErrorCode.INVALID, "text: must be 1-4000 characters after trimming")
        mentions = await self._mentions.resolve(room, cleaned)
        now = iso_utc(datetime.fromtimestamp(self._clock(), UTC))
        try:
            message = await self._change(
                room,
                message_id,
                lambda change: self._messages.edit(
                    room,
                    message_id,
                    author=username,
                    text=cleaned,
                    mentions=mentions,
                    edited_at=now,
                    change=change,
                ),
            )
        except NotApplied as refused:
            current = refused.current
            if current is None:
                raise _not_found(room, message_id) from None
            if current.deleted:
                raise _deleted() from None
            raise EditRefused(ErrorCode.FORBIDDEN, "Only its author can edit a message") from None
        return message

    async def delete(
        self, *, username: str, room: str, message_id: str, may_delete_others: bool = False
    ) -> Message:
        """Erase a message, leaving its tombstone; idempotent. Its author may, and whoever
        `may_delete_others` in the room (its admins and owners: the caller decides, by the
        room's policy). Replies quoting it lose the quote's text, in storage too."""
        current = await self._messages.get(room, message_id)
        if current is None:
            raise _not_found(room, message_id)
        if current.username != username and not may_delete_others:
            raise EditRefused(ErrorCode.FORBIDDEN, "You may delete only your own messages")
        if current.deleted:
            return current
        replies: list[str] = []

        async def erase(change: str) -> Message:
            replies.extend(await self._messages.erase(current, change=change))
            return current.as_deleted()

        try:
            message = await self._change(room, message_id, erase)
        except NotApplied as refused:
            if refused.current is None:
                raise _not_found(room, message_id) from None
            return refused.current  # deleted meanwhile by someone else, who broadcast it
        for reply in replies:
            await self._blank_quote(room, reply, parent=message_id)
        return message

    async def _blank_quote(self, room: str, reply: str, *, parent: str) -> None:
        try:
            await self._change(
                room,
                reply,
                lambda change: self._messages.blank_quote(
                    room, reply, parent=parent, change=change
                ),
            )
        except NotApplied:
            pass  # the reply is gone or deleted: no quote left to erase
        except StorageUnavailable as exc:
            log.warning("the quote of %s in reply %s was not erased: %s", parent, reply, exc)

    async def react(
        self, *, username: str, room: str, message_id: str, emoji: str, on: bool
    ) -> Message:
        """Add (`on`) or take back the caller's reaction; idempotent: asking for what is
        already so writes and broadcasts nothing."""
        canonical = canonical_emoji(emoji)
        if canonical is None:
            raise EditRefused(ErrorCode.INVALID, "emoji: must be one emoji")
        emoji = canonical
        try:
            if on:
                return await self._change(
                    room,
                    message_id,
                    lambda change: self._messages.react(
                        room,
                        message_id,
                        emoji=emoji,
                        username=username,
                        change=change,
                        now_ms=int(self._clock() * 1000),
                    ),
                )
            return await self._change(
                room,
                message_id,
                lambda change: self._messages.unreact(
                    room, message_id, emoji=emoji, username=username, change=change
                ),
            )
        except NotApplied as refused:
            current = refused.current
            if current is None:
                raise _not_found(room, message_id) from None
            if current.deleted:
                raise _deleted() from None
            reacted = any(r.emoji == emoji and username in r.users for r in current.reactions)
            if on and not reacted:
                raise EditRefused(
                    ErrorCode.INVALID,
                    f"A message may have at most {MAX_REACTION_KINDS} different emoji",
                ) from None
            return current

    async def _change(
        self, room: str, message_id: str, write: Callable[[str], Awaitable[Message]]
    ) -> Message:
        """Draw the change's token, mark it delivered, make it, broadcast it. A write that may
        or may not have happened (DynamoDB did not answer) gives its mark back, so the stream
        delivers it if it did."""
        change = new_ulid()
        await self._deliveries.claim_change(room, message_id, change)
        try:
            message = await write(change)
        except StorageUnavailable:
            await self._deliveries.unclaim_change(room, message_id, change)
            raise
        except ItemTooLarge:
            raise EditRefused(
                ErrorCode.TOO_LARGE, "This message cannot hold more (too many reactions)"
            ) from None
        await self._broadcaster.message_updated(message)
        return message
