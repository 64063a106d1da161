"""Every client event fuzzed with Hypothesis over one long-lived connection per test.

Payloads: arbitrary JSON (None, bools, ints of up to 200 digits, floats with NaN and
infinities, odd Unicode, nested lists and dicts), any number of arguments, binary attachments,
and payloads that are *almost* valid: the right keys with wrong types, overlong or blank
strings, missing or extra keys. Properties, after every example:

- an acked event answers `{"ok": false, "error": <str>, "code": <code>}` or its contract's
  success shape, and never the catch-all "Internal error" (code `internal`);
- the fuzzing connection is still up and usable, and a bystander in the same room still sends
  a message and both receive it, in id order;
- the server has logged no traceback or exception since the example before.

The fuzz runs against a server of its own (see conftest.py). Reserved event names, names that
are not strings and malformed packets have their own tests in test_socket_protocol.py."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st

from parley.errors import ErrorCode
from parley.ids import MIN_ULID, ULID_PATTERN, new_ulid
from parley.realtime.server import MAX_PACKET_BYTES
from tests.fuzz.stats import record_example
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import register_and_login

# Examples per event: 100 in `make test`; `make fuzz` runs 1000.
MAX_EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "100"))
ACK_TIMEOUT = 5.0
DELIVERY_TIMEOUT = 5.0
ARENA = "fuzz-arena"  # the room the fuzzer and the bystander share
CLIENT_EVENTS = ("join", "leave", "message", "typing", "edit", "delete", "react")
# Names python-socketio dispatches to lifecycle handlers; see test_socket_protocol.py.
RESERVED_EVENTS = ("connect", "disconnect")
MESSAGE_KEYS = {"id", "room", "username", "text", "createdAt", "clientId"} | {
    "editedAt",
    "deleted",
    "replyTo",
    "reactions",
    "mentions",
}  # rich messages
LOG_PROBLEM = re.compile(r"Traceback|Exception")
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: one failing example can cost an ack timeout, and a derandomized run
    # reproduces it as reported (see `note`).
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# --- strategies -------------------------------------------------------------------------------

ODD_STRINGS = [
    "",
    " ",
    "\t\n\r\x0b\x0c",
    "\x00",
    "general\x00",
    " general",
    "GENERAL",
    "../general",
    "\u200b",
    "\u202egeneral",
    "\ufeff",
    "\u2028\u2029\u0085\u3000",
    "\uffff\ufffe",
    "\U0010ffff",
    "\U0001f600" * 3,
    "e\u0301" * 5,
    "\u0000\u0001\u001f\u007f",
    "<script>alert(1)</script>",
    '{"$gt": ""}',
    "%s%n{0}${{7*7}}",
    "\\",
    '"',
]
CHARACTERS = st.characters(exclude_categories=["Cs"])  # any code point but lone surrogates
TEXT = st.one_of(
    st.text(CHARACTERS, max_size=40),
    st.sampled_from(ODD_STRINGS),
)
# python-engineio refuses an integer literal longer than 100 characters (against CPU
# exhaustion); such a packet gets an error ack all the same (test_socket_protocol.py).
LONGEST_INT = 10**200 - 1
SHORTEST_INT = -(10**199 - 1)
INTEGERS = st.one_of(
    st.integers(min_value=SHORTEST_INT, max_value=LONGEST_INT),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**64) - 2, max_value=-(2**63) + 2),
    st.sampled_from([LONGEST_INT, SHORTEST_INT]),
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
LEAVES = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT)
JSON = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
ANY_VALUE = st.one_of(JSON, st.binary(max_size=16))

ROOMS = st.one_of(
    st.sampled_from(["no-such-room", ARENA.upper(), f" {ARENA}", ARENA[:-1]]),
    TEXT,
    st.text(min_size=65, max_size=80),  # one past the room id limit and more
    ANY_VALUE,
)
TEXTS = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.integers(min_value=3990, max_value=4010).map(lambda n: "x" * n),  # the 4000 limit
    st.just(" " * 50 + "y" + " " * 50),
    st.just("\U0001f600" * 4001),  # 4001 code points, 16 KB
    st.just("z" * 40_000),  # past the event size limit
    ANY_VALUE,
)
CLIENT_IDS = st.one_of(
    st.sampled_from(["", "c" * 64, "c" * 65]),
    TEXT,
    ANY_VALUE,
)
EXTRA_KEYS = st.dictionaries(
    st.one_of(TEXT, st.sampled_from(["ROOM", "room ", "__proto__", "constructor", "id"])),
    JSON,
    max_size=2,
)


def near_valid(
    fields: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]],
) -> st.SearchStrategy[dict[str, Any]]:
    """The event's own keys, each present nine times in ten, with a valid value seven times in
    ten and a fuzzy one (wrong type, overlong, blank ...) otherwise; sometimes extra keys."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for key, (valid, fuzzy) in fields.items():
            if draw(st.integers(0, 9)) > 0:
                payload[key] = draw(valid if draw(st.integers(0, 9)) < 7 else fuzzy)
        if draw(st.integers(0, 4)) == 0:
            payload |= {k: v for k, v in draw(EXTRA_KEYS).items() if k not in fields}
        return payload

    return build()


VALID_ROOMS = st.sampled_from([ARENA, ARENA, ARENA, "general"])
VALID_TEXTS = st.text(CHARACTERS, min_size=1, max_size=60)
VALID_CLIENT_IDS = st.text("abcdef0123456789", min_size=1, max_size=12)  # repeats: dedup
ROOM_PAYLOAD = near_valid({"room": (VALID_ROOMS, ROOMS)})
MESSAGE_PAYLOAD = near_valid(
    {
        "room": (VALID_ROOMS, ROOMS),
        "text": (VALID_TEXTS, TEXTS),
        "clientId": (VALID_CLIENT_IDS, CLIENT_IDS),
    }
)


IDS = st.one_of(st.builds(new_ulid), st.sampled_from([MIN_ULID, "", "x" * 26]), ANY_VALUE)
MESSAGE_REF_PAYLOAD = near_valid({"room": (VALID_ROOMS, ROOMS), "id": (st.builds(new_ulid), IDS)})
EDIT_PAYLOAD = near_valid(
    {
        "room": (VALID_ROOMS, ROOMS),
        "id": (st.builds(new_ulid), IDS),
        "text": (VALID_TEXTS, TEXTS),
    }
)
REACT_PAYLOAD = near_valid(
    {
        "room": (VALID_ROOMS, ROOMS),
        "id": (st.builds(new_ulid), IDS),
        "emoji": (st.sampled_from(["👍", "🎉", "👨‍👩‍👧"]), TEXT),
        "on": (st.booleans(), ANY_VALUE),
    }
)


def arguments(payload: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """What the event carries: mostly one payload, sometimes none, several, or any value."""
    return st.one_of(
        payload.map(lambda p: (p,)),
        payload.map(lambda p: (p,)),
        payload.map(lambda p: (p,)),
        ANY_VALUE.map(lambda v: (v,)),
        st.just(()),
        st.lists(st.one_of(payload, ANY_VALUE), min_size=2, max_size=3).map(tuple),
    )


UNKNOWN_EVENTS = st.one_of(
    st.text(CHARACTERS, max_size=30),
    st.sampled_from(["", "on_join", "JOIN", "join ", "message\x00", "session_expired", "*"]),
    st.sampled_from(["presence", "connect_error", "__disconnect_final", "trigger_event"]),
    st.sampled_from(RESERVED_EVENTS),
).filter(lambda name: name not in CLIENT_EVENTS)


# --- the arena: a fuzzer and a bystander in one room ------------------------------------------


def within_frame_limit(event: str, args: tuple[Any, ...]) -> bool:
    """Whether the event's frame (JSON as python-socketio writes it, ASCII-escaped) fits."""
    try:
        encoded = json.dumps([event, *args], separators=(",", ":"))
    except (TypeError, ValueError):  # bytes and the like: small in this suite
        return True
    return len(encoded) + 16 <= MAX_PACKET_BYTES  # and the packet's type and ack id


@dataclass
class Arena:
    app: AppServer
    fuzzer: ChatClient
    bystander: ChatClient
    fuzzer_name: str
    log_offset: int
    probes: int = 0
    last_id: dict[tuple[str, str], str] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)
    sent_client_ids: set[str] = field(default_factory=set)

    async def example(
        self, request: pytest.FixtureRequest, event: str, args: tuple[Any, ...]
    ) -> None:
        """One fuzz example: send, hold the ack to the contract, then check that all is well."""
        # A frame past the transport's limit closes the connection instead of getting an ack
        # (tests/realtime/test_abuse.py holds that); every other event is answered.
        assume(within_frame_limit(event, args))
        stats = record_example(request.node.nodeid)
        note(f"{event} {args!r:.3000}")
        ack = await self.fuzzer.sio.call(event, args, timeout=ACK_TIMEOUT)
        assert_ack(event, ack)
        outcome = "ok" if ack["ok"] else _category(ack["error"])
        stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
        own_message = None
        if event == "message" and ack["ok"]:
            own_message = self.check_own_message(args[0], ack["message"])
        await self.still_fine(rejoin=event == "leave" and ack["ok"])
        if own_message is not None and own_message["room"] == ARENA:
            assert own_message["id"] in self.seen["bystander"], "not broadcast to the room"
        self.assert_clean_log()

    async def unacked(
        self, request: pytest.FixtureRequest, event: Any, args: tuple[Any, ...]
    ) -> None:
        """An event no handler answers: nothing comes back, and nothing breaks."""
        record_example(request.node.nodeid)
        note(f"{event!r} {args!r:.3000}")
        await self.fuzzer.sio.emit(event, args)
        await self.still_fine()
        self.assert_clean_log()

    def check_own_message(self, payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        client_id = payload["clientId"]
        if client_id not in self.sent_client_ids:
            # A first send stores exactly what was sent; a repeat returns what was stored.
            self.sent_client_ids.add(client_id)
            assert message["room"] == payload["room"], message
            assert message["text"] == payload["text"].strip(), message
        assert message["username"] == self.fuzzer_name, message
        assert message["clientId"] == client_id, message
        return message

    async def still_fine(self, *, rejoin: bool = False) -> None:
        """The fuzzer is connected and in the arena; a bystander's message reaches both."""
        assert self.fuzzer.sio.connected, "the fuzzing connection was dropped"
        assert self.bystander.sio.connected, "the bystander was dropped"
        if rejoin:
            ack = await self.fuzzer.call("join", {"room": ARENA}, timeout=ACK_TIMEOUT)
            assert ack.get("ok") is True, ack
        self.probes += 1
        probe = {"room": ARENA, "text": f"probe {self.probes}", "clientId": secrets.token_hex(8)}
        ack = await self.bystander.call("message", probe, timeout=ACK_TIMEOUT)
        assert ack.get("ok") is True, ack
        for name, client in (("bystander", self.bystander), ("fuzzer", self.fuzzer)):
            await self.receive(name, client, ack["message"]["id"])
            client.drain("typing")
            client.drain("presence")

    async def receive(self, name: str, client: ChatClient, message_id: str) -> None:
        """Read `client`'s messages up to `message_id`; each room's arrive in id order."""
        seen = self.seen.setdefault(name, set())
        while True:
            message = await client.next("message", timeout=DELIVERY_TIMEOUT)
            assert_message(message)
            key = (name, message["room"])
            previous = self.last_id.get(key, "")
            assert message["id"] > previous, f"{name}: {message['id']} after {previous}"
            self.last_id[key] = message["id"]
            seen.add(message["id"])
            if message["id"] == message_id:
                return

    def assert_clean_log(self) -> None:
        """No traceback or exception in what the server logged since the last look."""
        with self.app.log.open("rb") as log:
            log.seek(self.log_offset)
            output = log.read()
        self.log_offset += len(output)
        problems = [
            line
            for line in output.decode(errors="replace").splitlines()
            if LOG_PROBLEM.search(line)
        ]
        assert not problems, "\n".join(line[:2000] for line in problems[:5])


def _category(error: str) -> str:
    """An error message without the names it quotes: "No room '…'", "text: must be …"."""
    field, _, message = error.partition(": ")
    if not message:
        return re.sub(r"'.*'", "'…'", error, flags=re.DOTALL)
    known = field in ("room", "text", "clientId", "payload", "id", "emoji", "on", "replyTo")
    return f"{field if known else '<extra key>'}: {message.split(',')[0][:50]}"


def assert_message(message: Any) -> None:
    assert isinstance(message, dict), message
    assert set(message) == MESSAGE_KEYS, message
    assert re.match(ULID_PATTERN, message["id"]), message
    text = message["text"]
    assert isinstance(text, str), message
    assert message["deleted"] in (True, False), message
    assert (len(text) == 0) if message["deleted"] else (1 <= len(text) <= 4000), message
    assert isinstance(message["reactions"], list), message
    assert message["replyTo"] is None or set(message["replyTo"]) == {"id", "username", "text"}
    assert text == text.strip(), message
    assert isinstance(message["createdAt"], str)
    assert isinstance(message["username"], str)
    assert message["clientId"] is None or isinstance(message["clientId"], str)


def assert_ack(event: str, ack: Any) -> None:
    """The contract's shapes: `{"ok": false, "error", "code"}` (and `retryAfter` where waiting
    helps), or the event's success."""
    assert isinstance(ack, dict), f"{event}: ack {ack!r}"
    if ack.get("ok") is False:
        assert set(ack) - {"retryAfter"} == {"ok", "error", "code"}, ack
        assert isinstance(ack["error"], str), ack
        assert ack["error"], ack
        assert ack["error"] != "Internal error", "an unexpected exception in the handler"
        assert ack["code"] in set(ErrorCode) - {ErrorCode.INTERNAL}, ack
        if "retryAfter" in ack:
            assert ack["code"] in (ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE), ack
            assert ack["retryAfter"] > 0, ack
        return
    assert ack.get("ok") is True, ack
    if event == "join":
        assert set(ack) == {"ok", "messages", "hasOlder"}, ack
        assert isinstance(ack["messages"], list), ack
        assert len(ack["messages"]) <= 50
        for message in ack["messages"]:
            assert_message(message)
        ids = [message["id"] for message in ack["messages"]]
        assert ids == sorted(ids), "history out of order"
    elif event in ("message", "edit", "delete", "react"):
        assert set(ack) == {"ok", "message"}, ack
        assert_message(ack["message"])
    else:
        assert ack == {"ok": True}, ack


async def signup(app: AppServer) -> tuple[str, str]:
    """A new account, logged in: its name and session cookie."""
    username = f"fz_{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as http:
        return username, await register_and_login(http, username)


@pytest.fixture
async def arena(socket_fuzz_app: AppServer) -> AsyncIterator[Arena]:
    app = socket_fuzz_app
    log_offset = app.log.stat().st_size
    (fuzzer_name, fuzzer_cookie), (_, bystander_cookie) = await signup(app), await signup(app)
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": fuzzer_cookie}, timeout=20
    ) as http:
        response = await http.post("/api/rooms", json={"name": ARENA})
        assert response.status_code in (201, 409), response.text
    fuzzer, bystander = ChatClient(app, fuzzer_cookie), ChatClient(app, bystander_cookie)
    try:
        for client in (fuzzer, bystander):
            await client.connect()
            await client.join(ARENA)
        arena = Arena(app, fuzzer, bystander, fuzzer_name, log_offset)
        yield arena
        # Whatever the server logged late, after the last example's own look.
        await asyncio.sleep(0.2)
        arena.assert_clean_log()
    finally:
        for client in (fuzzer, bystander):
            await client.close()


# --- the fuzz tests ---------------------------------------------------------------------------


@FUZZ_SETTINGS
@given(args=arguments(ROOM_PAYLOAD))
async def test_join_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "join", args)


@FUZZ_SETTINGS
@given(args=arguments(ROOM_PAYLOAD))
async def test_leave_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "leave", args)


@FUZZ_SETTINGS
@given(args=arguments(MESSAGE_PAYLOAD))
async def test_message_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "message", args)


@FUZZ_SETTINGS
@given(args=arguments(ROOM_PAYLOAD))
async def test_typing_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "typing", args)


@FUZZ_SETTINGS
@given(args=arguments(EDIT_PAYLOAD))
async def test_edit_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "edit", args)


@FUZZ_SETTINGS
@given(args=arguments(MESSAGE_REF_PAYLOAD))
async def test_delete_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "delete", args)


@FUZZ_SETTINGS
@given(args=arguments(REACT_PAYLOAD))
async def test_react_fuzz(
    arena: Arena, request: pytest.FixtureRequest, args: tuple[Any, ...]
) -> None:
    await arena.example(request, "react", args)


@FUZZ_SETTINGS
@given(event=UNKNOWN_EVENTS, args=arguments(JSON))
async def test_unknown_event_fuzz(
    arena: Arena, request: pytest.FixtureRequest, event: str, args: tuple[Any, ...]
) -> None:
    await arena.unacked(request, event, args)
