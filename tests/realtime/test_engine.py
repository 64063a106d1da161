"""The Engine.IO writer's poll keeps the library's behaviour: batches what is queued, stops at
the close sentinel, and gives up after the ping deadline."""

from __future__ import annotations

import asyncio

import engineio
import pytest
from engineio import exceptions
from engineio.async_socket import AsyncSocket
from engineio.packet import MESSAGE, Packet

from parley.realtime.engine import _poll, use_taskless_writer


def make_socket(ping_interval: float = 25, ping_timeout: float = 20) -> AsyncSocket:
    server = engineio.AsyncServer(ping_interval=ping_interval, ping_timeout=ping_timeout)
    return AsyncSocket(server, "sid")


async def test_takes_everything_queued_in_order() -> None:
    sock = make_socket()
    packets = [Packet(MESSAGE, f"m{i}") for i in range(3)]
    for pkt in packets:
        sock.queue.put_nowait(pkt)
    assert await _poll(sock) == packets
    assert sock.queue.empty()


async def test_waits_for_the_next_packet() -> None:
    sock = make_socket()
    later = Packet(MESSAGE, "later")
    asyncio.get_running_loop().call_later(0.05, sock.queue.put_nowait, later)
    assert await _poll(sock) == [later]


async def test_the_close_sentinel_ends_a_batch_and_stays_queued() -> None:
    sock = make_socket()
    first = Packet(MESSAGE, "first")
    sock.queue.put_nowait(first)
    sock.queue.put_nowait(None)
    assert await _poll(sock) == [first]
    assert await _poll(sock) == []  # the writer then exits


async def test_nothing_within_the_ping_deadline_is_queue_empty() -> None:
    sock = make_socket(ping_interval=0.05, ping_timeout=0.05)
    with pytest.raises(exceptions.QueueEmpty):
        await _poll(sock)


def test_installed() -> None:
    use_taskless_writer()
    assert AsyncSocket.poll is _poll
