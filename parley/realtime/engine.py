"""Engine.IO's per-socket writer, without a task for every wake-up on Python 3.11.

Each socket's writer waits for its next outgoing packet with `asyncio.wait_for`, which before
Python 3.12 wraps the wait in a new task every time. Under fan-out every recipient's writer
wakes for every message, and those tasks were the largest item left in the server's profile
(bench/results/HISTORY.md). `asyncio.timeout` gives the same deadline without a task; Python 3.12's
`wait_for` is built on it. This replaces one method of
the python-engineio pinned in constraints.txt; tests/realtime/test_engine.py holds it to the
original's behaviour.

It also keeps the count of broadcast bytes waiting in the queue (parley/realtime/fanout.py),
so it is installed on every Python version.

`SlimEngineIOServer` gives each socket a SlimQueue (parley/realtime/slim.py) for its outgoing
packets: an asyncio.Queue was about 3 KiB of every idle socket."""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
from engineio import exceptions
from engineio.async_socket import AsyncSocket

from parley.realtime.fanout import took
from parley.realtime.slim import SlimQueue


async def _poll(self: AsyncSocket) -> list[Any]:
    """AsyncSocket.poll (python-engineio 4.x) with `asyncio.timeout` for `wait_for`, counting
    the broadcast bytes it takes off the queue."""
    if self.queue.empty():
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                packets = [await self.queue.get()]
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
    else:  # behind on a busy room: no deadline to arm and cancel
        packets = [self.queue.get_nowait()]
    self.queue.task_done()
    if packets == [None]:
        return []
    took(self, packets[0])
    while True:
        try:
            pkt = self.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        self.queue.task_done()
        if pkt is None:
            self.queue.put_nowait(None)
            break
        took(self, pkt)
        packets.append(pkt)
    return packets


def use_taskless_writer() -> None:
    AsyncSocket.poll = _poll


class SlimEngineIOServer(engineio.AsyncServer):  # type: ignore[misc]
    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """Each socket's queue (engineio.base_socket): unbounded, so a SlimQueue."""
        if args or kwargs:
            return super().create_queue(*args, **kwargs)
        return SlimQueue()
