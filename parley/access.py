"""Who may do what in a room: the one policy function (docs/design/conversations.md, "The
policy"). Every HTTP route, socket event and stream consumer reaches a room through
`Conversations.access`, which looks up the room and the caller's standing and asks `authorize`;
nothing else decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from parley.errors import ErrorCode, Refused


class Kind(StrEnum):
    PUBLIC = "public"  # anyone logged in finds it, reads it and joins it
    PRIVATE = "private"  # only its members know it exists
    DM = "dm"  # two people (or one with themself); nobody else, ever


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Action(StrEnum):
    READ = "read"  # history, room info, members list, socket join (to read)
    POST = "post"  # socket message and typing (a public room's reader becomes a member)
    JOIN = "join"  # become a member of a public room
    MARK_READ = "mark_read"
    MANAGE = "manage"  # rename, topic
    ADD_MEMBER = "add_member"
    REMOVE_MEMBER = "remove_member"  # and ban, unban, the list of bans
    SET_ROLE = "set_role"
    LEAVE = "leave"
    DELETE_ANY_MESSAGE = "delete_any_message"  # issue #12: delete another person's message


@dataclass(frozen=True, slots=True)
class Standing:
    """A user's place in one room, from the one key lookup of their member item."""

    role: Role | None = None  # None: not a member
    banned: bool = False

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def manages(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


NOBODY = Standing()


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room as stored, the same for every caller."""

    id: str
    name: str
    kind: Kind = Kind.PUBLIC  # rooms written before conversations have no kind: public
    topic: str = ""
    members: int = 0
    owners: int = 0
    created_by: str = ""
    pair: tuple[str, str] | None = None  # a DM's two lower-cased usernames, sorted


def no_room(room_id: str) -> Refused:
    """What a missing room answers, and so what a private room or DM answers a non-member:
    the same code and the same words, so the answer tells nothing."""
    return Refused(ErrorCode.NOT_FOUND, f"No room '{room_id}'")


_MANAGERS_ONLY = "Only the room's owners and admins can do that"


def authorize(
    action: Action,
    room: RoomRecord | None,
    caller: Standing,
    target: Standing | None = None,
    *,
    room_id: str = "",
) -> None:
    """Return when `caller` may do `action` in `room`, else raise Refused (`not_found`,
    `forbidden` or `conflict`). `target` is the standing of the person acted on (add, remove,
    ban, set a role); `room_id` names a room that was not found."""
    if room is None:
        raise no_room(room_id)
    if room.kind is not Kind.PUBLIC and not caller.is_member:
        raise no_room(room.id)
    if caller.banned and action in (Action.READ, Action.POST, Action.JOIN):
        raise Refused(ErrorCode.FORBIDDEN, f"You are banned from '{room.id}'")
    if action in (Action.READ, Action.POST, Action.JOIN):
        return
    if not caller.is_member:
        # A public room's reader: nothing to leave or mark, no say in the room.
        code = ErrorCode.NOT_FOUND if action in _OWN_MEMBERSHIP else ErrorCode.FORBIDDEN
        raise Refused(code, f"You are not a member of '{room.id}'")
    if room.kind is Kind.DM and action in _NOT_IN_A_DM:
        raise Refused(ErrorCode.CONFLICT, _NOT_IN_A_DM[action])
    _role_rules(action, room, caller, target)


_OWN_MEMBERSHIP = (Action.LEAVE, Action.MARK_READ)
_NOT_IN_A_DM = {
    Action.ADD_MEMBER: "Nobody can be added to a direct message",
    Action.REMOVE_MEMBER: "Nobody can be removed from a direct message",
    Action.SET_ROLE: "A direct message has no roles",
    Action.LEAVE: "A direct message cannot be left",
}


def _role_rules(
    action: Action, room: RoomRecord, caller: Standing, target: Standing | None
) -> None:
    if action is Action.MARK_READ:
        return
    if action is Action.ADD_MEMBER:
        if room.kind is Kind.PRIVATE and not caller.manages:
            raise Refused(ErrorCode.FORBIDDEN, _MANAGERS_ONLY)
        if target is not None and target.banned:
            raise Refused(ErrorCode.FORBIDDEN, f"That user is banned from '{room.id}'")
        return
    if action is Action.LEAVE:
        return
    if action is Action.SET_ROLE:
        if caller.role is not Role.OWNER:
            raise Refused(ErrorCode.FORBIDDEN, "Only the room's owners can change roles")
        return
    # MANAGE, REMOVE_MEMBER, DELETE_ANY_MESSAGE
    if not caller.manages:
        raise Refused(ErrorCode.FORBIDDEN, _MANAGERS_ONLY)
    removes_owner = target is not None and target.role is Role.OWNER
    if action is Action.REMOVE_MEMBER and removes_owner and caller.role is not Role.OWNER:
        raise Refused(ErrorCode.FORBIDDEN, "Only an owner can remove an owner")
