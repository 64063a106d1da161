"""The chat events of the default namespace. Each handler checks the session, validates the
payload and calls the service; `guarded` turns every failure into an error ack."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel
from redis.exceptions import RedisError

from parley.access import Action, Role, Standing, authorize
from parley.client_address import client_address, environ_header
from parley.conversations import Access, Conversations
from parley.editing import Editor
from parley.errors import BACKEND_ERRORS, ErrorCode, Problem, Refused, backend_unavailable
from parley.logs import request_id
from parley.messaging import Messenger
from parley.models import MessageJSON
from parley.realtime.channels import room_channel, session_channel, user_channel
from parley.realtime.handshake import cookie_value, origin_allowed, refusal, release
from parley.realtime.limits import (
    MAX_EVENTS_IN_FLIGHT,
    MAX_ROOMS_PER_SOCKET,
    MAX_SOCKETS_PER_ADDRESS,
    MAX_SOCKETS_PER_SESSION,
    SOCKET_BUDGETS,
    STRIKES,
    USER_BUDGETS,
    Buckets,
    TokenBucket,
    rate_limited,
    scaled,
    scaled_budget,
)
from parley.realtime.payloads import (
    EditEvent,
    JoinEvent,
    MessageEvent,
    MessageRef,
    ReactEvent,
    RoomEvent,
    parse,
)
from parley.realtime.presence import PresenceAnnouncer
from parley.services import Services
from parley.storage.presence import PresenceEntry
from parley.storage.sessions import session_ref

log = logging.getLogger(__name__)

# A join's ack carries the latest messages it asked for, or fewer when they would be over
# this many bytes of JSON (50 messages of 4000 emoji are ~2.4 MB); older ones are paged over
# HTTP (`GET /api/rooms/{room}/messages?before=`).
MAX_HISTORY_ACK_BYTES = 256 * 1024
TYPING_INTERVAL_SECONDS = 1.5
ACK_FLUSH_SECONDS = 0.1

Ack = dict[str, Any]
_ROLES = frozenset(role.value for role in Role)


def not_joined(room: str) -> Refused:
    return Refused(ErrorCode.NOT_JOINED, f"Join room '{room}' first")


Event = TypeVar("Event", bound=BaseModel)


def failure(code: ErrorCode, error: str) -> Ack:
    return Problem(code, error).ack()


def history_within_bytes(messages: list[MessageJSON]) -> list[MessageJSON]:
    """The newest of `messages` (oldest first) whose JSON fits in MAX_HISTORY_ACK_BYTES, as
    python-socketio writes it (ASCII-escaped: an emoji is 12 bytes)."""
    total, start = 0, len(messages)
    while start > 0:
        total += len(json.dumps(messages[start - 1], separators=(",", ":"))) + 1  # and a comma
        if total > MAX_HISTORY_ACK_BYTES:
            break
        start -= 1
    return messages[start:]


@dataclass(slots=True)
class Connection:
    """One socket's state: it is kept for as long as the socket is open, so it holds nothing
    that all sockets could share (the budgets' settings are the namespace's; what a socket
    costs in memory: bench/socket_memory.py)."""

    username: str
    session_key: str
    address: str
    # The rooms this socket joined, with what its `join` proved (the room, and the user's
    # standing in it: a role, or none when reading a public room), kept up to date by
    # `apply_membership`; the policy decides each later event from it, with no lookup.
    rooms: dict[str, Access] = field(default_factory=dict)
    last_typing: dict[str, float] = field(default_factory=dict)
    budgets: Buckets = field(default_factory=lambda: Buckets(SOCKET_BUDGETS))
    strikes: TokenBucket = field(default_factory=lambda: TokenBucket(STRIKES))
    dropping: bool = False
    in_flight: int = 0  # events admitted and not yet answered

    def presence(self, sid: str, room: str) -> PresenceEntry:
        return PresenceEntry(room=room, sid=sid, username=self.username)


class ChatNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        services: Services,
        messenger: Messenger,
        conversations: Conversations,
        editor: Editor,
    ) -> None:
        super().__init__("/")
        self.services = services
        self.messenger = messenger
        self.conversations = conversations
        self.editor = editor
        self.connections: dict[str, Connection] = {}
        # Per user, session and address, over their sockets here; an entry goes with the last.
        self.user_budgets: dict[str, Buckets] = {}
        self.sockets_of: dict[str, int] = {}  # by username, session key and "@" + address
        self._budget_scale = services.settings.socket_budget_scale
        # Made once and shared by every socket's buckets (a Budget is immutable): a copy per
        # socket was about 1 KiB of each idle socket's memory.
        self._socket_budgets = scaled(SOCKET_BUDGETS, self._budget_scale)
        self._strikes = scaled_budget(STRIKES, self._budget_scale)
        # Coalesced per room: a burst of joins is not a list per join to the whole room.
        self.presence_announcer = PresenceAnnouncer(services.presence, self._announce_presence)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        settings = self.services.settings
        if not origin_allowed(environ, settings.origins):
            raise refusal("forbidden origin", ErrorCode.FORBIDDEN)
        # The same rule as HTTP: the client-IP header counts only with the front's secret, so
        # rotating it cannot dodge the per-address cap.
        peer = environ.get("REMOTE_ADDR")
        address = client_address(environ_header(environ), str(peer) if peer else None, settings)
        if self.sockets_of.get("@" + address, 0) >= MAX_SOCKETS_PER_ADDRESS:
            raise refusal("too many connections", ErrorCode.RATE_LIMITED)
        key = cookie_value(environ, settings.cookie_name)
        try:
            session = await self.services.sessions.touch(key) if key else None
        except BACKEND_ERRORS as exc:
            problem = backend_unavailable(exc, self.services.metrics)
            raise refusal("service unavailable", problem.code, problem.retry_after) from None
        if session is None:
            raise refusal("unauthorized", ErrorCode.UNAUTHORIZED)
        if self.sockets_of.get(session.key, 0) >= MAX_SOCKETS_PER_SESSION:
            raise refusal("too many connections", ErrorCode.RATE_LIMITED)
        try:
            # Subscribed (parley/realtime/bus.py) before the connection is acknowledged; a
            # refusal leaves the rooms again (python-socketio disconnects the socket).
            await self.enter_room(sid, session_channel(session.ref))
            await self.enter_room(sid, user_channel(session.username))
        except BACKEND_ERRORS as exc:
            problem = backend_unavailable(exc, self.services.metrics)
            raise refusal("service unavailable", problem.code, problem.retry_after) from None
        connection = Connection(
            session.username,
            session.key,
            address,
            budgets=Buckets(self._socket_budgets),
            strikes=TokenBucket(self._strikes),
        )
        self.connections[sid] = connection
        for owner in self._owners(connection):
            self.sockets_of[owner] = self.sockets_of.get(owner, 0) + 1
        self.services.metrics.sockets.inc()
        release(environ)

    async def on_disconnect(self, sid: str, *_: Any) -> None:
        connection = self.connections.pop(sid, None)
        if connection is None:
            return
        for owner in self._owners(connection):
            if self.sockets_of[owner] > 1:
                self.sockets_of[owner] -= 1
            else:
                del self.sockets_of[owner]
                self.user_budgets.pop(owner, None)
        self.services.metrics.sockets.dec()
        for room in list(connection.rooms):
            try:
                await self._publish_presence(room, left=connection.presence(sid, room))
            except RedisError as exc:  # the entry fades on its own (PRESENCE_TTL_SECONDS)
                log.warning("presence not updated on disconnect: %s", exc)

    @staticmethod
    def _owners(connection: Connection) -> tuple[str, str, str]:
        return (connection.username, connection.session_key, "@" + connection.address)

    def admit(self, sid: str, event: str) -> Problem | None:
        """Whether this socket and its user have budget left for one more `event` (a client
        event name); called before the event is dispatched, so a refusal costs no task. A
        socket that keeps going far past its budget is disconnected."""
        connection = self.connections.get(sid)
        if connection is None:
            return None  # the handler answers `unauthorized`
        if connection.dropping:
            return Problem(ErrorCode.RATE_LIMITED, "Rate limit: disconnecting")
        if connection.in_flight >= MAX_EVENTS_IN_FLIGHT:
            return Problem(
                ErrorCode.RATE_LIMITED,
                f"Too many events awaiting their acks (at most {MAX_EVENTS_IN_FLIGHT})",
                retry_after=1,
            )
        now = time.monotonic()
        wait = connection.budgets.take(event, now)
        if not wait:
            user = self.user_budgets.get(connection.username)
            if user is None:
                user = Buckets(scaled(USER_BUDGETS, self._budget_scale))
                self.user_budgets[connection.username] = user
            wait = user.take(event, now)
        if not wait:
            connection.in_flight += 1  # until its handler answers (`guarded`)
            return None
        if connection.strikes.take(now):
            connection.dropping = True
            log.warning("socket disconnected: far past its event budget")
            self.server.start_background_task(self._drop_after_ack, sid)
        return rate_limited(event, wait)

    async def _drop_after_ack(self, sid: str) -> None:
        await asyncio.sleep(ACK_FLUSH_SECONDS)
        await self.disconnect(sid)

    async def on_join(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, JoinEvent, self._join)

    async def on_leave(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, RoomEvent, self._leave)

    async def on_message(self, sid: str, *args: Any) -> Ack:
        with self.services.metrics.send_seconds.time():
            return await self.guarded(sid, args, MessageEvent, self._message)

    async def on_typing(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, RoomEvent, self._typing)

    async def on_read(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, MessageRef, self._read)

    async def on_edit(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, EditEvent, self._edit)

    async def on_delete(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, MessageRef, self._delete)

    async def on_react(self, sid: str, *args: Any) -> Ack:
        return await self.guarded(sid, args, ReactEvent, self._react)

    async def guarded(
        self,
        sid: str,
        args: tuple[Any, ...],
        model: type[Event],
        action: Callable[[str, Connection, Event], Awaitable[Ack]],
    ) -> Ack:
        connection = self.connections.get(sid)
        if connection is None:
            return failure(ErrorCode.UNAUTHORIZED, "not connected")
        try:
            return await self._answer(sid, connection, args, model, action)
        finally:
            connection.in_flight = max(connection.in_flight - 1, 0)

    async def _answer(
        self,
        sid: str,
        connection: Connection,
        args: tuple[Any, ...],
        model: type[Event],
        action: Callable[[str, Connection, Event], Awaitable[Ack]],
    ) -> Ack:
        request_id.set(f"sio-{sid}")  # each event runs in a task of its own
        try:
            if await self.services.sessions.touch(connection.session_key) is None:
                # After this ack has gone out: a socket dropped first would never receive it.
                self.server.start_background_task(self._expire_after_ack, sid)
                return failure(ErrorCode.UNAUTHORIZED, "session expired")
            return await action(sid, connection, parse(model, args))
        except Refused as refused:
            return refused.problem.ack()
        except BACKEND_ERRORS as exc:
            return backend_unavailable(exc, self.services.metrics).ack()
        except Exception:
            log.exception("event failed")
            return failure(ErrorCode.INTERNAL, "Internal error")

    async def _join(self, sid: str, connection: Connection, event: JoinEvent) -> Ack:
        if event.room not in connection.rooms and len(connection.rooms) >= MAX_ROOMS_PER_SOCKET:
            return failure(
                ErrorCode.RATE_LIMITED,
                f"Too many rooms: a socket may join at most {MAX_ROOMS_PER_SOCKET}, "
                "leave one first",
            )
        found = await self.conversations.access(connection.username, event.room, Action.READ)
        await self.enter_room(sid, room_channel(event.room))
        connection.rooms[event.room] = found
        await self._publish_presence(event.room, joined=connection.presence(sid, event.room))
        if not event.limit:
            return {"ok": True, "messages": [], "hasOlder": False}
        page = await self.services.messages.latest(event.room, limit=event.limit)
        messages = history_within_bytes([m.to_json() for m in page.messages])
        # Whether older messages are there to page over HTTP: more than the limit, or some of
        # the page left out for its size (a client cannot tell that from the count alone).
        has_older = page.next is not None or len(messages) < len(page.messages)
        return {"ok": True, "messages": messages, "hasOlder": has_older}

    async def _leave(self, sid: str, connection: Connection, event: RoomEvent) -> Ack:
        if event.room in connection.rooms:
            await self.leave_room(sid, room_channel(event.room))
            del connection.rooms[event.room]
            await self._publish_presence(event.room, left=connection.presence(sid, event.room))
        return {"ok": True}

    async def _message(self, sid: str, connection: Connection, event: MessageEvent) -> Ack:
        if event.room not in connection.rooms:
            return failure(ErrorCode.NOT_JOINED, f"Join room '{event.room}' before sending to it")
        found = self.allowed(connection, event.room, Action.POST)
        if not found.standing.is_member:  # reading a public room: sending joins it
            await self.conversations.join(connection.username, event.room)
            connection.rooms[event.room] = replace(found, standing=Standing(Role.MEMBER))
        message = await self.messenger.send(
            username=connection.username,
            room=event.room,
            text=event.text,
            client_id=event.clientId,
            reply_to=event.replyTo,
        )
        return {"ok": True, "message": message.to_json()}

    async def _edit(self, sid: str, connection: Connection, event: EditEvent) -> Ack:
        self.allowed(connection, event.room, Action.POST)
        message = await self.editor.edit(
            username=connection.username, room=event.room, message_id=event.id, text=event.text
        )
        return {"ok": True, "message": message.to_json()}

    async def _delete(self, sid: str, connection: Connection, event: MessageRef) -> Ack:
        found = self.allowed(connection, event.room, Action.POST)
        try:
            authorize(Action.DELETE_ANY_MESSAGE, found.room, found.standing)
            may_delete_others = True
        except Refused:
            may_delete_others = False
        message = await self.editor.delete(
            username=connection.username,
            room=event.room,
            message_id=event.id,
            may_delete_others=may_delete_others,
        )
        return {"ok": True, "message": message.to_json()}

    async def _react(self, sid: str, connection: Connection, event: ReactEvent) -> Ack:
        self.allowed(connection, event.room, Action.POST)
        message = await self.editor.react(
            username=connection.username,
            room=event.room,
            message_id=event.id,
            emoji=event.emoji,
            on=event.on,
        )
        return {"ok": True, "message": message.to_json()}

    async def _typing(self, sid: str, connection: Connection, event: RoomEvent) -> Ack:
        self.allowed(connection, event.room, Action.POST)
        now = time.monotonic()
        if now - connection.last_typing.get(event.room, 0.0) >= TYPING_INTERVAL_SECONDS:
            connection.last_typing[event.room] = now
            await self.emit(
                "typing",
                {"room": event.room, "username": connection.username},
                room=room_channel(event.room),
                skip_sid=sid,
            )
        return {"ok": True}

    @staticmethod
    def allowed(connection: Connection, room: str, action: Action) -> Access:
        """What this socket's join proved about `room`, if the policy lets it do `action`
        there now; raises Refused (`not_joined` when it has not joined the room)."""
        found = connection.rooms.get(room)
        if found is None:
            raise not_joined(room)
        authorize(action, found.room, found.standing)
        return found

    async def _read(self, sid: str, connection: Connection, event: MessageRef) -> Ack:
        await self.conversations.mark_read(
            connection.username, event.room, event.id, from_socket=sid
        )
        return {"ok": True}

    async def _publish_presence(
        self, room: str, *, joined: PresenceEntry | None = None, left: PresenceEntry | None = None
    ) -> None:
        await self.presence_announcer.changed(room, joined=joined, left=left)

    async def _announce_presence(self, room: str, users: list[str]) -> None:
        await self.emit("presence", {"room": room, "users": users}, room=room_channel(room))

    async def apply_membership(self, channel: str, event: str, data: dict[str, Any]) -> None:
        """A membership change, published by any instance, reaching this one: a user who left,
        was removed or banned has their sockets here taken out of the room at once, so nothing
        of the room published after the change reaches them; a new role is kept for the
        checks that depend on it."""
        room = data.get("room")
        if not isinstance(room, str):
            return
        if event == "room_removed":
            for sid, _ in list(self.server.manager.get_participants(self.namespace, channel)):
                await self._drop_from_room(sid, room)
            return
        username = data.get("username")
        if not isinstance(username, str):
            return
        role = data.get("role")
        for sid, _ in list(self.server.manager.get_participants(self.namespace, channel)):
            connection = self.connections.get(sid)
            if connection is None or connection.username.lower() != username.lower():
                continue
            if role is None:
                await self._drop_from_room(sid, room)
            elif role in _ROLES and room in connection.rooms:
                found = connection.rooms[room]
                connection.rooms[room] = replace(found, standing=Standing(Role(role)))

    async def _drop_from_room(self, sid: str, room: str) -> None:
        connection = self.connections.get(sid)
        if connection is None or room not in connection.rooms:
            return
        await self.leave_room(sid, room_channel(room))
        del connection.rooms[room]
        # Off the delivery path: the watch runs before the room's next broadcast is delivered.
        self.server.start_background_task(
            self._publish_presence, room, left=connection.presence(sid, room)
        )

    async def expire(self, sids: list[str]) -> None:
        """Tell these sockets their session is over, then drop them."""
        for sid in sids:
            # Straight to the local socket, not through the Redis queue, so the event is
            # written before the disconnect that follows it.
            await self.emit("session_expired", {}, to=sid, ignore_queue=True)
            await self.disconnect(sid)

    async def _expire_after_ack(self, sid: str) -> None:
        await asyncio.sleep(ACK_FLUSH_SECONDS)
        await self.expire([sid])

    async def expire_session(self, ref: str) -> None:
        """A session ended (logout, ended from the list of sessions, a password change): its
        sockets on every instance hear it now; sockets here are dropped at once, those
        elsewhere by their instance's sweep. `ref` is the session's `Session.ref`."""
        local = [sid for sid, c in self.connections.items() if session_ref(c.session_key) == ref]
        await self.emit("session_expired", {}, room=session_channel(ref), skip_sid=local)
        await self.expire(local)

    async def sweep_sessions(self) -> None:
        """Drop every local socket whose session is gone (expired, logged out, Redis flushed)."""
        by_key: dict[str, list[str]] = {}
        for sid, connection in list(self.connections.items()):
            by_key.setdefault(connection.session_key, []).append(sid)
        if not by_key:
            return
        keys = list(by_key)
        alive = await self.services.sessions.which_alive(keys)
        for key, is_alive in zip(keys, alive, strict=True):
            if not is_alive:
                await self.expire(by_key[key])

    async def refresh_presence(self) -> None:
        entries = [
            connection.presence(sid, room)
            for sid, connection in list(self.connections.items())
            for room in connection.rooms
        ]
        if entries:
            await self.services.presence.refresh(entries)
