"""The manager's index of each socket's rooms: a disconnect leaves exactly the rooms the
library's scan of every room would find, without scanning them."""

from __future__ import annotations

import random
from typing import Any

from socketio.base_manager import BaseManager

from parley.realtime.manager import FanOutRedisManager

NS = "/"


class NoScan(dict[Any, Any]):
    """A namespace's rooms that fail a test which walks all of them."""

    def copy(self) -> dict[Any, Any]:
        raise AssertionError("a disconnect scanned every room")

    def items(self) -> Any:
        raise AssertionError("a disconnect scanned every room")


def manager() -> FanOutRedisManager:
    return FanOutRedisManager("redis://127.0.0.1:1", channel="test")


def connect(target: BaseManager, sid: str) -> None:
    target.basic_enter_room(sid, NS, None, eio_sid=f"e{sid}")
    target.basic_enter_room(sid, NS, sid, eio_sid=f"e{sid}")


def test_a_disconnect_leaves_its_rooms_without_scanning_the_others() -> None:
    chat = manager()
    for n in range(50):
        connect(chat, f"s{n}")
        chat.basic_enter_room(f"s{n}", NS, f"session:{n}")
        chat.basic_enter_room(f"s{n}", NS, "room:general")
    chat.callbacks["s7"] = {1: print}
    chat.rooms[NS] = NoScan(chat.rooms[NS])
    chat.basic_disconnect("s7", NS)
    assert all("s7" not in members for members in dict.values(chat.rooms[NS]))
    assert "session:7" not in chat.rooms[NS]
    assert "s7" not in chat.rooms[NS]
    assert "s8" in chat.rooms[NS]["room:general"]
    assert "s7" not in chat.callbacks


def test_the_rooms_after_any_sequence_are_the_librarys() -> None:
    chat, library = manager(), BaseManager()
    rng = random.Random(7)
    rooms = [f"r{n}" for n in range(6)]
    connected: set[str] = set()
    for _ in range(2000):
        sid, room, action = f"s{rng.randrange(12)}", rng.choice(rooms), rng.random()
        for target in (chat, library):
            if sid not in connected:
                connect(target, sid)
            elif action < 0.5:
                target.basic_enter_room(sid, NS, room)
            elif action < 0.8:
                target.basic_leave_room(sid, NS, room)
            else:
                target.basic_disconnect(sid, NS)
        if sid not in connected:
            connected.add(sid)
        elif action >= 0.8:
            connected.discard(sid)
        assert chat.rooms == library.rooms
