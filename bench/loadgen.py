"""Load-generator worker processes: many lean Socket.IO clients on one asyncio loop each.

The coordinator (bench.run) starts workers with `start_worker` and drives them over a pipe:

  fan-out   ("phase", PhaseSpec) → ("result", PhaseResult) …, then ("close", None)
  capacity  ("hold", seconds) → ("held", {...}), then ("close", None)

Every message's clientId is "<run tag>p<phase>.<k>" (k: its index in the phase's schedule) and
its text starts with the sender's time.monotonic_ns() at the moment of sending; CLOCK_MONOTONIC
is one clock for every process on the machine, so any worker can time any delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from array import array
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from bench.lean_client import LeanSocket
from bench.stack import raise_fd_limit


@dataclass(frozen=True)
class ClientSpec:
    index: int
    cookie: str | None
    room: str


@dataclass(frozen=True)
class FanoutSpec:
    url: str
    clients: list[ClientSpec]
    senders: dict[int, int]  # global sender number -> client index (in this worker)
    total_senders: int
    connect_concurrency: int
    fds: int
    compress: int = 0


@dataclass(frozen=True)
class PhaseSpec:
    tag: str  # unique per run: Parley de-duplicates a user's clientIds for 48 h
    phase: int
    rate: float
    duration: float
    start_ns: int
    text_size: int
    quiet_s: float
    drain_max_s: float
    ack_timeout_s: float


@dataclass
class PhaseResult:
    planned: int
    sent: list[int] = field(default_factory=list)  # k of each message this worker sent
    acked_ok: list[int] = field(default_factory=list)
    ack_errors: Counter[str] = field(default_factory=Counter)
    unacked: int = 0
    ack_latency_us: bytes = b""
    delivery_latency_us: bytes = b""
    unique_by_k: bytes = b""  # array('I') of unique deliveries per k to this worker's clients
    duplicates: int = 0
    out_of_order: int = 0
    stale: int = 0
    send_lag_us: bytes = b""
    first_send_ns: int = 0
    last_send_ns: int = 0
    last_delivery_ns: int = 0
    disconnected: int = 0
    other_events: Counter[str] = field(default_factory=Counter)


@dataclass
class ConnectReport:
    connected: int
    failed: int
    errors: Counter[str]
    seconds: float
    connect_latency_us: bytes
    joined: int = 0
    join_seconds: float = 0.0
    join_errors: Counter[str] = field(default_factory=Counter)


class _Receiving:
    """Per-phase delivery bookkeeping, updated from every socket's reader (kept cheap)."""

    def __init__(self, tag: str, phase: int, planned: int, clients: int) -> None:
        self.prefix = f"{tag}p{phase}."
        self.planned = planned
        self.unique = array("I", bytes(4 * planned))
        self.seen = [bytearray(planned) for _ in range(clients)]
        self.last_id: list[str] = [""] * clients
        self.latency = array("q")
        self.duplicates = 0
        self.out_of_order = 0
        self.stale = 0
        self.last_delivery_ns = 0
        self.other: Counter[str] = Counter()

    def on_event(self, sock: LeanSocket, name: str, data: Any, recv_ns: int) -> None:
        if name != "message":
            self.other[name] += 1
            return
        client_id = data.get("clientId") or ""
        if not client_id.startswith(self.prefix):
            self.stale += 1
            return
        k = int(client_id[len(self.prefix) :])
        self.last_delivery_ns = recv_ns
        seen = self.seen[sock.tag]
        if k >= self.planned or seen[k]:
            self.duplicates += 1
            return
        seen[k] = 1
        self.unique[k] += 1
        message_id = data["id"]
        if message_id <= self.last_id[sock.tag]:
            self.out_of_order += 1
        else:
            self.last_id[sock.tag] = message_id
        send_ns = int(data["text"].split(" ", 1)[0])
        self.latency.append((recv_ns - send_ns) // 1000)


def _ignore(sock: LeanSocket, name: str, data: Any, recv_ns: int) -> None:
    return None


async def _connect_all(
    http: aiohttp.ClientSession,
    url: str,
    socks: list[LeanSocket],
    cookies: list[str | None],
    concurrency: int,
    compress: int,
) -> ConnectReport:
    gate = asyncio.Semaphore(concurrency)
    latencies = array("q")
    errors: Counter[str] = Counter()

    async def one(sock: LeanSocket, cookie: str | None) -> None:
        async with gate:
            t0 = time.monotonic_ns()
            try:
                await sock.connect(http, url, cookie=cookie, compress=compress)
            except Exception as exc:
                errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                return
            latencies.append((time.monotonic_ns() - t0) // 1000)

    t0 = time.monotonic()
    await asyncio.gather(*(one(s, c) for s, c in zip(socks, cookies, strict=True)))
    seconds = time.monotonic() - t0
    return ConnectReport(
        connected=len(latencies),
        failed=len(socks) - len(latencies),
        errors=errors,
        seconds=seconds,
        connect_latency_us=latencies.tobytes(),
    )


def _connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, force_close=False)


async def _fanout(conn: Connection, spec: FanoutSpec) -> None:
    dispatcher: dict[str, _Receiving | None] = {"current": None}

    def on_event(sock: LeanSocket, name: str, data: Any, recv_ns: int) -> None:
        receiving = dispatcher["current"]
        if receiving is not None:
            receiving.on_event(sock, name, data, recv_ns)

    socks = [LeanSocket(on_event, tag=i) for i in range(len(spec.clients))]
    async with aiohttp.ClientSession(connector=_connector()) as http:
        report = await _connect_all(
            http,
            spec.url,
            socks,
            [c.cookie for c in spec.clients],
            spec.connect_concurrency,
            spec.compress,
        )
        gate = asyncio.Semaphore(spec.connect_concurrency)

        async def join(sock: LeanSocket, room: str) -> bool:
            if not sock.connected:
                return False
            async with gate:
                try:
                    ack = await sock.call("join", {"room": room})
                except Exception as exc:
                    report.join_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                    return False
                if not (isinstance(ack, dict) and ack.get("ok")):
                    report.join_errors[str(ack)[:120]] += 1
                    return False
                return True

        t0 = time.monotonic()
        joined = await asyncio.gather(
            *(join(s, c.room) for s, c in zip(socks, spec.clients, strict=True))
        )
        report.joined = sum(joined)
        report.join_seconds = time.monotonic() - t0
        # Only clients that joined count as room members (the coordinator's expected counts).
        members = [c.index for c, ok in zip(spec.clients, joined, strict=True) if ok]
        conn.send(("ready", {"report": report, "members": members}))
        async for command, arg in _commands(conn):
            if command == "phase":
                receiving = _Receiving(arg.tag, arg.phase, int(arg.rate * arg.duration), len(socks))
                dispatcher["current"] = receiving
                result = await _run_phase(spec, socks, arg, receiving)
                conn.send(("result", result))
        disconnected = sum(1 for s in socks if not s.connected)
        await _close_all(socks)
    conn.send(("closed", {"disconnected_before_close": disconnected}))


async def _run_phase(
    spec: FanoutSpec, socks: list[LeanSocket], phase: PhaseSpec, receiving: _Receiving
) -> PhaseResult:
    result = PhaseResult(planned=receiving.planned)
    interval_ns = 1e9 / phase.rate
    pad = "x" * max(phase.text_size - 28, 0)
    ack_latency = array("q")
    send_lag = array("q")
    pending: set[int] = set()

    def acked(k: int, send_ns: int) -> Any:
        def on_ack(data: Any, recv_ns: int) -> None:
            pending.discard(k)
            ack_latency.append((recv_ns - send_ns) // 1000)
            if isinstance(data, dict) and data.get("ok"):
                result.acked_ok.append(k)
            else:
                error = data.get("error") if isinstance(data, dict) else repr(data)
                result.ack_errors[str(error)[:120]] += 1

        return on_ack

    mine = [k for k in range(receiving.planned) if (k % spec.total_senders) in spec.senders]
    for k in mine:
        scheduled = phase.start_ns + int(k * interval_ns)
        delay = scheduled - time.monotonic_ns()
        if delay > 1_000_000:  # sleep only when more than 1 ms early; otherwise send now
            await asyncio.sleep(delay / 1e9)
        sock = socks[spec.senders[k % spec.total_senders]]
        if not sock.connected:
            result.ack_errors["sender disconnected"] += 1
            continue
        send_ns = time.monotonic_ns()
        send_lag.append(max(send_ns - scheduled, 0) // 1000)
        if not result.first_send_ns:
            result.first_send_ns = send_ns
        result.last_send_ns = send_ns
        pending.add(k)
        result.sent.append(k)
        payload = {
            "room": spec.clients[sock.tag].room,
            "text": f"{send_ns} {k} {pad}",
            "clientId": f"{phase.tag}p{phase.phase}.{k}",
        }
        try:
            await sock.emit("message", payload, on_ack=acked(k, send_ns))
        except Exception as exc:
            pending.discard(k)
            result.ack_errors[f"send failed: {type(exc).__name__}"] += 1
    # Drain: wait for the acks, then until deliveries have been quiet for a while.
    end_of_sending = phase.start_ns + int(phase.duration * 1e9)
    deadline = max(time.monotonic_ns(), end_of_sending) + int(phase.drain_max_s * 1e9)
    ack_deadline = max(time.monotonic_ns(), end_of_sending) + int(phase.ack_timeout_s * 1e9)
    while True:
        now = time.monotonic_ns()
        if now >= deadline:
            break
        if pending and now < ack_deadline:
            await asyncio.sleep(0.05)
            continue
        last = max(receiving.last_delivery_ns, result.last_send_ns, end_of_sending)
        if now - last >= phase.quiet_s * 1e9:
            break
        await asyncio.sleep(0.05)
    result.unacked = len(pending)
    result.ack_latency_us = ack_latency.tobytes()
    result.delivery_latency_us = receiving.latency.tobytes()
    result.unique_by_k = receiving.unique.tobytes()
    result.duplicates = receiving.duplicates
    result.out_of_order = receiving.out_of_order
    result.stale = receiving.stale
    result.send_lag_us = send_lag.tobytes()
    result.last_delivery_ns = receiving.last_delivery_ns
    result.disconnected = sum(1 for s in socks if not s.connected)
    result.other_events = receiving.other
    return result


async def _commands(conn: Connection) -> AsyncIterator[tuple[str, Any]]:
    """The coordinator's commands, until it says "close"."""
    loop = asyncio.get_running_loop()
    while True:
        command, arg = await loop.run_in_executor(None, conn.recv)
        if command == "close":
            return
        yield command, arg


async def _close_all(socks: list[LeanSocket], batch: int = 500) -> None:
    for start in range(0, len(socks), batch):
        await asyncio.gather(*(s.close() for s in socks[start : start + batch]))


@dataclass(frozen=True)
class CapacitySpec:
    url: str
    cookies: list[str | None]
    connect_concurrency: int
    fds: int
    compress: int = 0


async def _capacity(conn: Connection, spec: CapacitySpec) -> None:
    socks = [LeanSocket(_ignore, tag=i) for i in range(len(spec.cookies))]
    async with aiohttp.ClientSession(connector=_connector()) as http:
        report = await _connect_all(
            http, spec.url, socks, spec.cookies, spec.connect_concurrency, spec.compress
        )
        conn.send(("ready", {"report": report}))
        async for command, arg in _commands(conn):
            if command == "hold":
                await asyncio.sleep(float(arg))
                reasons = Counter(s.disconnect_reason for s in socks if s.closed.is_set())
                conn.send(
                    (
                        "held",
                        {
                            "still_connected": sum(1 for s in socks if s.connected),
                            "pings_answered": sum(s.pings for s in socks),
                            "disconnect_reasons": dict(reasons),
                        },
                    )
                )
        t0 = time.monotonic()
        await _close_all(socks)
    conn.send(("closed", {"close_seconds": time.monotonic() - t0}))


def _worker_main(conn: Connection, kind: str, spec: Any) -> None:
    raise_fd_limit(spec.fds)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        runner = asyncio.run
    try:
        if kind == "fanout":
            runner(_fanout(conn, spec))
        else:
            runner(_capacity(conn, spec))
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection

    async def recv(self, limit_s: float) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, self.conn.poll, limit_s)
        if not ready:
            raise TimeoutError(f"load generator silent for {limit_s:.0f} s")
        try:
            message: tuple[str, Any] = self.conn.recv()
        except EOFError:
            code = self.process.exitcode
            raise RuntimeError(f"load generator exited (code {code})") from None
        if message[0] == "error":
            raise RuntimeError(f"load generator failed: {message[1]}")
        return message

    def send(self, command: str, arg: Any = None) -> None:
        self.conn.send((command, arg))

    def pid(self) -> int:
        return int(self.process.pid or 0)

    def join(self, timeout: float = 30) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def start_worker(kind: str, spec: FanoutSpec | CapacitySpec) -> Worker:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker_main, args=(child, kind, spec), daemon=True)
    process.start()
    child.close()
    return Worker(process, parent)
