"""The policy function over every (kind x standing x action), and every target where the
target matters: each outcome is read from a table, so a changed rule shows as one cell."""

from __future__ import annotations

import itertools

import pytest

from parley.access import (
    NOBODY,
    Action,
    Kind,
    Role,
    RoomRecord,
    Standing,
    authorize,
    no_room,
)
from parley.errors import Refused

BANNED = Standing(banned=True)
MEMBER = Standing(Role.MEMBER)
ADMIN = Standing(Role.ADMIN)
OWNER = Standing(Role.OWNER)
STANDINGS = {"none": NOBODY, "banned": BANNED, "member": MEMBER, "admin": ADMIN, "owner": OWNER}
COLUMNS = tuple(STANDINGS)

OK, NF, FB, CF = "ok", "not_found", "forbidden", "conflict"

# action -> kind -> the outcome for a caller who is: none, banned, member, admin, owner
EXPECTED: dict[Action, dict[Kind, tuple[str, str, str, str, str]]] = {
    Action.READ: {
        Kind.PUBLIC: (OK, FB, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, OK, OK, OK),
        Kind.DM: (NF, NF, OK, OK, OK),
    },
    Action.POST: {
        Kind.PUBLIC: (OK, FB, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, OK, OK, OK),
        Kind.DM: (NF, NF, OK, OK, OK),
    },
    Action.JOIN: {
        Kind.PUBLIC: (OK, FB, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, OK, OK, OK),
        Kind.DM: (NF, NF, OK, OK, OK),
    },
    Action.MARK_READ: {
        Kind.PUBLIC: (NF, NF, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, OK, OK, OK),
        Kind.DM: (NF, NF, OK, OK, OK),
    },
    Action.MANAGE: {
        Kind.PUBLIC: (FB, FB, FB, OK, OK),
        Kind.PRIVATE: (NF, NF, FB, OK, OK),
        Kind.DM: (NF, NF, FB, OK, OK),
    },
    Action.ADD_MEMBER: {
        Kind.PUBLIC: (FB, FB, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, FB, OK, OK),
        Kind.DM: (NF, NF, CF, CF, CF),
    },
    Action.REMOVE_MEMBER: {
        Kind.PUBLIC: (FB, FB, FB, OK, OK),
        Kind.PRIVATE: (NF, NF, FB, OK, OK),
        Kind.DM: (NF, NF, CF, CF, CF),
    },
    Action.SET_ROLE: {
        Kind.PUBLIC: (FB, FB, FB, FB, OK),
        Kind.PRIVATE: (NF, NF, FB, FB, OK),
        Kind.DM: (NF, NF, CF, CF, CF),
    },
    Action.LEAVE: {
        Kind.PUBLIC: (NF, NF, OK, OK, OK),
        Kind.PRIVATE: (NF, NF, OK, OK, OK),
        Kind.DM: (NF, NF, CF, CF, CF),
    },
    Action.DELETE_ANY_MESSAGE: {
        Kind.PUBLIC: (FB, FB, FB, OK, OK),
        Kind.PRIVATE: (NF, NF, FB, OK, OK),
        Kind.DM: (NF, NF, FB, OK, OK),
    },
}

# Where the person acted on matters: action -> kind -> caller -> the outcome for a target who
# is: none, banned, member, admin, owner. (In a DM these actions are refused before.)
WITH_TARGET: dict[Action, dict[Kind, dict[str, tuple[str, str, str, str, str]]]] = {
    Action.ADD_MEMBER: {
        Kind.PUBLIC: {
            "member": (OK, FB, OK, OK, OK),
            "admin": (OK, FB, OK, OK, OK),
            "owner": (OK, FB, OK, OK, OK),
        },
        Kind.PRIVATE: {
            "member": (FB, FB, FB, FB, FB),
            "admin": (OK, FB, OK, OK, OK),
            "owner": (OK, FB, OK, OK, OK),
        },
    },
    Action.REMOVE_MEMBER: {
        kind: {
            "member": (FB, FB, FB, FB, FB),
            "admin": (OK, OK, OK, OK, FB),
            "owner": (OK, OK, OK, OK, OK),
        }
        for kind in (Kind.PUBLIC, Kind.PRIVATE)
    },
    Action.SET_ROLE: {
        kind: {
            "member": (FB, FB, FB, FB, FB),
            "admin": (FB, FB, FB, FB, FB),
            "owner": (OK, OK, OK, OK, OK),
        }
        for kind in (Kind.PUBLIC, Kind.PRIVATE)
    },
}


def room(kind: Kind) -> RoomRecord:
    return RoomRecord(id=f"a-{kind}", name=f"A {kind}", kind=kind)


def outcome(action: Action, record: RoomRecord | None, caller: Standing, **kw: object) -> str:
    try:
        authorize(action, record, caller, room_id="nowhere", **kw)  # type: ignore[arg-type]
    except Refused as refused:
        return refused.problem.code.value
    return OK


def test_the_tables_cover_every_action_and_kind() -> None:
    assert set(EXPECTED) == set(Action)
    for action in Action:
        assert set(EXPECTED[action]) == set(Kind)


@pytest.mark.parametrize(
    ("action", "kind", "standing"), list(itertools.product(Action, Kind, COLUMNS))
)
def test_every_kind_standing_and_action(action: Action, kind: Kind, standing: str) -> None:
    expected = EXPECTED[action][kind][COLUMNS.index(standing)]
    assert outcome(action, room(kind), STANDINGS[standing]) == expected


@pytest.mark.parametrize(
    ("action", "kind", "caller", "target"),
    [
        (action, kind, caller, target)
        for action, kinds in WITH_TARGET.items()
        for kind, callers in kinds.items()
        for caller in callers
        for target in COLUMNS
    ],
)
def test_every_target(action: Action, kind: Kind, caller: str, target: str) -> None:
    expected = WITH_TARGET[action][kind][caller][COLUMNS.index(target)]
    got = outcome(action, room(kind), STANDINGS[caller], target=STANDINGS[target])
    assert got == expected


@pytest.mark.parametrize(("action", "standing"), list(itertools.product(Action, COLUMNS)))
def test_a_missing_room_is_not_found_whoever_asks(action: Action, standing: str) -> None:
    with pytest.raises(Refused) as refused:
        authorize(action, None, STANDINGS[standing], room_id="nowhere")
    assert refused.value.problem == no_room("nowhere").problem


@pytest.mark.parametrize(
    ("action", "kind", "standing"),
    list(itertools.product(Action, (Kind.PRIVATE, Kind.DM), ("none", "banned"))),
)
def test_a_hidden_room_answers_an_outsider_as_a_missing_one(
    action: Action, kind: Kind, standing: str
) -> None:
    record = room(kind)
    with pytest.raises(Refused) as hidden:
        authorize(action, record, STANDINGS[standing])
    with pytest.raises(Refused) as missing:
        authorize(action, None, NOBODY, room_id=record.id)
    assert hidden.value.problem == missing.value.problem
    assert hidden.value.problem.body() == {"error": f"No room '{record.id}'", "code": "not_found"}
