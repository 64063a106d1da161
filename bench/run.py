"""`make bench` / `make bench-quick`: Parley's fan-out, capacity and HTTP figures against a
real `parley serve` (real Redis, the local DynamoDB endpoint), each beside a bare
python-socketio server doing the same fan-out on the same machine (bench/baseline_server.py).

The load generator runs in worker processes separate from every server (bench/loadgen.py);
this coordinating process also drives the HTTP scenario. Results: bench/results/<date>.json,
<date>.png (delivery latency against offered rate), <date>.md (the table printed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import re
import secrets
import shutil
import sys
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import compare_summary, http_load, node_compare, profile, report
from bench.lean_client import LeanSocket
from bench.loadgen import (
    CapacitySpec,
    ClientSpec,
    ConnectReport,
    FanoutSpec,
    PhaseResult,
    PhaseSpec,
    Worker,
    start_worker,
)
from bench.stack import CpuMeter, Server, Stack, machine, raise_fd_limit, start_stack
from bench.stats import ratio, summary_ms

RESULTS = Path(__file__).resolve().parent / "results"
SESSION_TTL = 1800


@dataclass
class Config:
    mode: str
    clients: int = 500
    rooms: int = 1
    senders: int = 10
    rate: float = 50.0
    duration: float = 30.0
    warmup: float = 3.0
    sweep_rates: list[float] = field(
        default_factory=lambda: [10, 20, 30, 40, 50, 60, 80, 100, 125, 150, 200, 300, 400]
    )
    sweep_duration: float = 8.0
    sweep_p99_ms: float = 250.0
    profile_seconds: float = 20.0
    capacity_sockets: int = 10_000
    capacity_hold: float = 35.0  # > Engine.IO's 25 s ping interval: pongs keep sockets alive
    capacity_fresh_server: bool = True
    capacity_settle_s: float = 2.0  # before each RSS reading
    # A second, smaller capacity run whose clients offer permessage-deflate, as browsers do.
    capacity_deflate_sockets: int = 2000
    deflate: bool = False  # every other client offers permessage-deflate too (--deflate)
    http_concurrency: list[int] = field(default_factory=lambda: [1, 8])
    http_duration: float = 8.0
    history_messages: int = 120
    loadgen_procs: int = 1
    connect_concurrency: int = 100
    text_size: int = 64
    quiet_s: float = 1.5
    drain_max_s: float = 20.0
    ack_timeout_s: float = 15.0
    message_rate_limit: int = 10_000
    # The side-by-side run under socket.io-client (bench/node_compare.py).
    node: node_compare.CompareConfig = field(default_factory=node_compare.CompareConfig)

    @classmethod
    def quick(cls) -> Config:
        return cls(
            mode="quick",
            clients=40,
            rooms=2,
            senders=4,
            rate=20,
            duration=3,
            warmup=0.5,
            sweep_rates=[20, 80],
            sweep_duration=2,
            profile_seconds=2,
            capacity_sockets=300,
            capacity_hold=1,
            capacity_fresh_server=False,
            capacity_settle_s=0.3,
            capacity_deflate_sockets=0,
            http_concurrency=[4],
            http_duration=2,
            history_messages=55,
            connect_concurrency=50,
            quiet_s=0.5,
            drain_max_s=8,
            ack_timeout_s=8,
            node=node_compare.quick(),
        )

    @property
    def fds(self) -> int:
        # Sockets plus slack for the process's own files, on each side of the connections.
        return max(self.capacity_sockets, self.clients) + 2048


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---------------------------------------------------------------- fan-out


@dataclass
class FanoutRun:
    """Connected load-generator workers for one server, reused by every phase."""

    server: Server
    config: Config
    workers: list[Worker]
    room_of_sender: list[str]
    room_size: Counter[str]
    connect: dict[str, Any]
    phase_no: int = 0
    tag: str = field(default_factory=lambda: secrets.token_hex(3))

    async def phase(self, rate: float, duration: float, cpu_pids: dict[str, int]) -> dict[str, Any]:
        self.phase_no += 1
        cfg = self.config
        spec = PhaseSpec(
            tag=self.tag,
            phase=self.phase_no,
            rate=rate,
            duration=duration,
            start_ns=time.monotonic_ns() + 300_000_000,
            text_size=cfg.text_size,
            quiet_s=cfg.quiet_s,
            drain_max_s=cfg.drain_max_s,
            ack_timeout_s=cfg.ack_timeout_s,
        )
        meter = CpuMeter(cpu_pids)
        meter.start()
        started = time.monotonic()
        for worker in self.workers:
            worker.send("phase", spec)
        timeout = duration + cfg.drain_max_s + cfg.ack_timeout_s + 60
        results: list[PhaseResult] = [(await w.recv(timeout))[1] for w in self.workers]
        cpu = meter.stop()
        merged = self._merge(spec, results, cpu)
        # The server's CPU per delivery (µs of one core): the cost of the fan-out, which holds
        # even when the machine is shared and latency is not comparable across runs.
        wall = time.monotonic() - started
        merged["wall_s"] = round(wall, 2)
        delivered = merged["deliveries"] + merged["deliveries_of_unacked"]
        # Every server process ("server", and "server2"... when one machine runs several).
        servers = sum(v for k, v in cpu.items() if k.startswith("server"))
        merged["server_cpu_us_per_delivery"] = (
            round(servers / 100 * wall * 1e6 / delivered, 1) if delivered else None
        )
        return merged

    def _merge(
        self, spec: PhaseSpec, results: list[PhaseResult], cpu: dict[str, float]
    ) -> dict[str, Any]:
        cfg = self.config
        planned = results[0].planned
        unique = [0] * planned
        for result in results:
            counts = array("I")
            counts.frombytes(result.unique_by_k)
            for k, n in enumerate(counts):
                unique[k] += n
        sent = sorted(k for r in results for k in r.sent)
        acked_ok = sorted(k for r in results for k in r.acked_ok)
        expected = deliveries = lost = 0
        for k in acked_ok:
            size = self.room_size[self.room_of_sender[k % cfg.senders]]
            expected += size
            deliveries += min(unique[k], size)
            lost += max(size - unique[k], 0)
        delivered_total = sum(unique)
        delivery_lat = _joined(r.delivery_latency_us for r in results)
        ack_lat = _joined(r.ack_latency_us for r in results)
        lag = _joined(r.send_lag_us for r in results)
        first = min((r.first_send_ns for r in results if r.first_send_ns), default=0)
        last_send = max((r.last_send_ns for r in results), default=0)
        last_delivery = max((r.last_delivery_ns for r in results), default=0)
        interval = 1 / spec.rate
        sending_s = (last_send - first) / 1e9 + interval if sent else 0.0
        delivering_s = (max(last_delivery, last_send) - first) / 1e9 if sent else 0.0
        ack_errors: Counter[str] = Counter()
        other: Counter[str] = Counter()
        for r in results:
            ack_errors.update(r.ack_errors)
            other.update(r.other_events)
        out: dict[str, Any] = {
            "phase": spec.phase,
            "offered_rate": spec.rate,
            "duration_s": spec.duration,
            "planned": planned,
            "sent": len(sent),
            "acked": len(acked_ok),
            "ack_failed": sum(ack_errors.values()),
            "unacked": sum(r.unacked for r in results),
            "ack_errors": dict(ack_errors),
            "expected_deliveries": expected,
            "deliveries": deliveries,
            "deliveries_of_unacked": delivered_total - deliveries,
            "lost": lost,
            "duplicates": sum(r.duplicates for r in results),
            "out_of_order": sum(r.out_of_order for r in results),
            "stale_from_earlier_phases": sum(r.stale for r in results),
            "delivery_ms": summary_ms(delivery_lat),
            "ack_ms": summary_ms(ack_lat),
            "send_lag_ms": summary_ms(lag),
            "achieved_send_rate": round(len(sent) / sending_s, 1) if sending_s else 0.0,
            "deliveries_per_s": round(delivered_total / delivering_s, 1) if delivering_s else 0.0,
            "disconnected": max((r.disconnected for r in results), default=0),
            "other_events": dict(other),
            "cpu_percent": cpu,
            "server_rss_mib": round(self.server.rss() / 2**20, 1),
        }
        out["passed"] = passed(out, cfg.sweep_p99_ms)
        return out

    async def close(self) -> None:
        for worker in self.workers:
            worker.send("close")
        for worker in self.workers:
            try:
                await worker.recv(60)
            except (TimeoutError, RuntimeError, EOFError) as exc:
                log(f"worker did not close cleanly: {exc}")
            worker.join()


def passed(phase: dict[str, Any], p99_limit_ms: float) -> bool:
    """Sustained: every message acked and delivered once, in order, p99 under the limit, and
    the load generator actually offered the rate (so an overloaded generator never passes)."""
    p99 = phase["delivery_ms"].get("p99")
    return bool(
        phase["sent"] == phase["planned"]
        and phase["acked"] == phase["sent"]
        and phase["lost"] == 0
        and phase["duplicates"] == 0
        and phase["out_of_order"] == 0
        and p99 is not None
        and p99 < p99_limit_ms
        and phase["achieved_send_rate"] >= 0.95 * phase["offered_rate"]
    )


def _joined(chunks: Any) -> array[int]:
    out = array("q")
    for chunk in chunks:
        out.frombytes(chunk)
    return out


async def start_fanout(server: Server, cfg: Config, cookies: list[str | None]) -> FanoutRun:
    rooms = [f"bench-{r}" for r in range(cfg.rooms)]
    room_of_client = [rooms[i % cfg.rooms] for i in range(cfg.clients)]
    procs = max(1, min(cfg.loadgen_procs, cfg.clients))
    specs = []
    for p in range(procs):
        mine = list(range(p, cfg.clients, procs))
        local = {index: pos for pos, index in enumerate(mine)}
        specs.append(
            FanoutSpec(
                url=server.url,
                clients=[ClientSpec(i, cookies[i], room_of_client[i]) for i in mine],
                senders={s: local[s] for s in range(cfg.senders) if s in local},
                total_senders=cfg.senders,
                connect_concurrency=cfg.connect_concurrency,
                fds=cfg.fds,
                compress=15 if cfg.deflate else 0,
            )
        )
    workers = [start_worker("fanout", spec) for spec in specs]
    reports: list[ConnectReport] = []
    members: list[int] = []
    for worker in workers:
        _, ready = await worker.recv(300)
        reports.append(ready["report"])
        members.extend(ready["members"])
    connect_lat = _joined(r.connect_latency_us for r in reports)
    connect: dict[str, Any] = {
        "connected": sum(r.connected for r in reports),
        "failed": sum(r.failed for r in reports),
        "errors": dict(sum((r.errors for r in reports), Counter())),
        "connect_seconds": round(max(r.seconds for r in reports), 2),
        "connect_ms": summary_ms(connect_lat),
        "joined": sum(r.joined for r in reports),
        "join_seconds": round(max(r.join_seconds for r in reports), 2),
        "join_errors": dict(sum((r.join_errors for r in reports), Counter())),
    }
    if connect["joined"] < cfg.clients:
        log(f"only {connect['joined']}/{cfg.clients} clients joined: {connect}")
    return FanoutRun(
        server=server,
        config=cfg,
        workers=workers,
        room_of_sender=[room_of_client[s] for s in range(cfg.senders)],
        room_size=Counter(room_of_client[i] for i in members),
        connect=connect,
    )


async def fanout_scenario(
    stack: Stack, server: Server, cfg: Config, cookies: list[str | None], *, profile_to: str | None
) -> dict[str, Any]:
    name = server.name
    log(f"{name}: connecting {cfg.clients} clients to {cfg.rooms} room(s)")
    run = await start_fanout(server, cfg, cookies)
    log(
        f"{name}: {run.connect['connected']} connected in {run.connect['connect_seconds']} s, "
        f"{run.connect['joined']} joined in {run.connect['join_seconds']} s"
    )
    pids = {"server": server.pid, **stack.service_pids()}
    pids |= {f"loadgen{i}": w.pid() for i, w in enumerate(run.workers)}
    if name == "baseline":
        pids = {k: v for k, v in pids.items() if k not in ("redis", "dynamodb")}
    out: dict[str, Any] = {"connect": run.connect}
    try:
        log(f"{name}: warm-up {cfg.rate:g} msg/s for {cfg.warmup:g} s")
        out["warmup"] = await run.phase(cfg.rate, cfg.warmup, pids)
        log(f"{name}: fan-out {cfg.rate:g} msg/s for {cfg.duration:g} s")
        out["main"] = main = await run.phase(cfg.rate, cfg.duration, pids)
        log(f"{name}: {_phase_line(main)}")
        if profile_to is not None:
            out["profile"] = await profile_phase(run, cfg, pids, profile_to)
        out["sweep"] = []
        for rate in cfg.sweep_rates:
            step = await run.phase(rate, cfg.sweep_duration, pids)
            out["sweep"].append(step)
            log(f"{name}: sweep {rate:g} msg/s: {_phase_line(step)}")
            if not step["passed"]:
                break
        passing = [s["offered_rate"] for s in out["sweep"] if s["passed"]]
        out["max_sustained_rate"] = _highest_before_failure(out["sweep"])
        out["max_sustained_rate_any"] = max(passing, default=None)
    finally:
        await run.close()
    return out


def _highest_before_failure(steps: list[dict[str, Any]]) -> float | None:
    best = None
    for step in steps:
        if not step["passed"]:
            break
        best = step["offered_rate"]
    return best


def _phase_line(p: dict[str, Any]) -> str:
    d = p["delivery_ms"]
    return (
        f"sent {p['sent']}/{p['planned']} acked {p['acked']} deliveries "
        f"{p['deliveries']}/{p['expected_deliveries']} lost {p['lost']} dup {p['duplicates']} "
        f"ooo {p['out_of_order']} p50 {d.get('p50')} p99 {d.get('p99')} max {d.get('max')} ms "
        f"ack p99 {p['ack_ms'].get('p99')} ms, {p['deliveries_per_s']} deliveries/s, "
        f"cpu {p['cpu_percent']} {'PASS' if p['passed'] else 'FAIL'}"
    )


async def profile_phase(
    run: FanoutRun, cfg: Config, pids: dict[str, int], stem: str
) -> dict[str, Any]:
    svg = RESULTS / f"{stem}.svg"
    raw = RESULTS / "tmp" / f"{stem}.txt"
    recording = profile.start(run.server.pid, cfg.profile_seconds, svg, raw)
    if recording is None:
        log("py-spy not found: no profile (pip install -r bench/requirements.txt)")
        return {"error": "py-spy not installed"}
    log(f"{run.server.name}: profiling {cfg.rate:g} msg/s for {cfg.profile_seconds:g} s")
    phase = await run.phase(cfg.rate, cfg.profile_seconds, pids)
    await asyncio.to_thread(recording.wait, 30)
    if not raw.exists():
        detail = recording.log.read_text(errors="replace")[-500:]
        log(f"py-spy wrote nothing: {detail}")
        return {"error": f"py-spy failed: {detail}", "phase": phase}
    spots = profile.hotspots(raw)
    return {
        "svg": _rel(svg),
        "raw": _rel(raw),
        "rate": cfg.rate,
        "seconds": cfg.profile_seconds,
        "phase": phase,
        **spots,
    }


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- capacity


async def capacity_scenario(
    server: Server, cfg: Config, cookies: list[str | None], *, deflate: bool = False
) -> dict[str, Any]:
    name = server.name
    hold = min(cfg.capacity_hold, 3.0) if deflate else cfg.capacity_hold
    await asyncio.sleep(cfg.capacity_settle_s)
    rss_before = server.rss()
    log(f"{name}: capacity: opening {len(cookies)} sockets (server RSS {rss_before >> 20} MiB)")
    spec = CapacitySpec(
        server.url, cookies, cfg.connect_concurrency, cfg.fds, compress=15 if deflate else 0
    )
    worker = start_worker("capacity", spec)
    meter = CpuMeter({"server": server.pid})
    meter.start()
    try:
        _, ready = await worker.recv(600)
        cpu = meter.stop()
        report_: ConnectReport = ready["report"]
        await asyncio.sleep(cfg.capacity_settle_s)  # handshakes' garbage collected, tasks idle
        rss_after = server.rss()
        connected = report_.connected
        log(f"{name}: {connected} connected in {report_.seconds:.1f} s, holding")
        worker.send("hold", hold)
        _, held = await worker.recv(hold + 120)
        rss_held = server.rss()
        worker.send("close")
        _, closed = await worker.recv(300)
    finally:
        worker.join()
    per_socket = (rss_after - rss_before) / connected if connected else math.nan
    return {
        "sockets": len(cookies),
        "connected": connected,
        "failed": report_.failed,
        "errors": dict(report_.errors),
        "connect_seconds": round(report_.seconds, 2),
        "connects_per_s": round(connected / report_.seconds, 1) if report_.seconds else None,
        "connect_ms": summary_ms(_joined([report_.connect_latency_us])),
        "connect_concurrency": cfg.connect_concurrency,
        "server_cpu_percent_while_connecting": cpu.get("server"),
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_after_mib": round(rss_after / 2**20, 1),
        "rss_after_hold_mib": round(rss_held / 2**20, 1),
        "rss_per_socket_kib": round(per_socket / 1024, 1),
        "rss_per_socket_after_hold_kib": round((rss_held - rss_before) / connected / 1024, 1)
        if connected
        else None,
        "hold_seconds": hold,
        "permessage_deflate_offered": deflate,
        "still_connected_after_hold": held["still_connected"],
        "pings_answered": held["pings_answered"],
        "disconnect_reasons": held["disconnect_reasons"],
        "close_seconds": round(closed["close_seconds"], 2),
        "server_fd_limit": server.fd_limit(),
    }


# ---------------------------------------------------------------- HTTP


async def http_scenario(
    stack: Stack, server: Server, cfg: Config, usernames: list[str], cookies: list[str], room: str
) -> dict[str, Any]:
    url = server.url
    out: dict[str, Any] = {"history_room": room, "levels": []}
    async with http_load.new_session() as http:
        headers = {"Cookie": f"{http_load.COOKIE_NAME}={cookies[0]}"}
        page_url = f"{url}/api/rooms/{room}/messages?limit=50"
        async with http.get(page_url, headers=headers) as response:
            page = await response.json()
        out["page_messages"] = len(page.get("messages", []))

        async def login(i: int) -> int:
            body = {"username": usernames[i % len(usernames)], "password": http_load.PASSWORD}
            async with http.post(f"{url}/api/auth/login", json=body) as response:
                await response.read()
                return response.status

        async def history(i: int) -> int:
            async with http.get(page_url, headers=headers) as response:
                await response.read()
                return response.status

        pids = {"server": server.pid, "loadgen": os.getpid(), **stack.service_pids()}
        for concurrency in cfg.http_concurrency:
            level: dict[str, Any] = {"concurrency": concurrency}
            for label, request in (("login", login), ("history", history)):
                meter = CpuMeter(pids)
                meter.start()
                result = await http_load.closed_loop(
                    request, concurrency=concurrency, duration=cfg.http_duration
                )
                level[label] = {
                    "requests": result.requests,
                    "rps": round(result.requests / result.seconds, 1),
                    "latency_ms": summary_ms(result.latency_us, (50, 90, 99)),
                    "errors": dict(result.errors),
                    "cpu_percent": meter.stop(),
                }
                lat = level[label]["latency_ms"]
                log(
                    f"parley: {label} x{concurrency}: {level[label]['rps']} req/s "
                    f"p50 {lat.get('p50')} p99 {lat.get('p99')} ms errors {dict(result.errors)}"
                )
            out["levels"].append(level)
    return out


async def seed_history(url: str, cookie: str, room: str, count: int) -> None:
    """Messages through the real send path, so the history page is full."""
    async with http_load.new_session() as http:
        await http_load.create_room(http, url, cookie, room)
        sock = LeanSocket()
        await sock.connect(http, url, cookie=cookie)
        try:
            await sock.call("join", {"room": room})
            for i in range(count):
                text = f"history message {i} " + "y" * 40
                ack = await sock.call("message", {"room": room, "text": text, "clientId": f"h{i}"})
                if not ack.get("ok"):
                    raise RuntimeError(f"seeding history: {ack}")
        finally:
            await sock.close()


async def endpoint_reference(stack: Stack, room: str, samples: int = 40) -> dict[str, Any]:
    """The local DynamoDB endpoint alone, serially from this process with aiobotocore: the
    floor under Parley's history page (a Query of 51 items) and under each send (PutItem)."""
    import aioboto3

    from parley.ids import new_ulid

    env = stack.env
    out: dict[str, Any] = {}
    async with aioboto3.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=env["PARLEY_DYNAMODB_ENDPOINT"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ) as client:
        table = f"{env['PARLEY_TABLE_PREFIX']}messages"
        calls: dict[str, Any] = {
            "query_51_ms": lambda: client.query(
                TableName=table,
                KeyConditionExpression="#r = :r",
                ExpressionAttributeNames={"#r": "room"},
                ExpressionAttributeValues={":r": {"S": room}},
                ScanIndexForward=False,
                Limit=51,
                ConsistentRead=True,
            ),
            "put_item_ms": lambda: client.put_item(
                TableName=table,
                Item={
                    "room": {"S": "bench-endpoint-reference"},
                    "id": {"S": new_ulid()},
                    "username": {"S": "bench"},
                    "text": {"S": "x" * 64},
                },
                ConditionExpression="attribute_not_exists(id)",
            ),
        }
        for label, call in calls.items():
            await call()  # warm the connection
            latency = array("q")
            for _ in range(samples):
                t0 = time.monotonic_ns()
                await call()
                latency.append((time.monotonic_ns() - t0) // 1000)
            out[label] = summary_ms(latency, (50, 99))
    log(f"DynamoDB endpoint alone: {out}")
    return out


# ---------------------------------------------------------------- the run


async def parley_part(stack: Stack, cfg: Config, stem: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    server = stack.start_parley(fds=cfg.fds)
    log(f"parley serve pid {server.pid} at {server.url} (fd limit {server.fd_limit()})")
    tag = secrets.token_hex(2)
    usernames = [f"bench{tag}_{i:05d}" for i in range(cfg.clients)]
    try:
        started = time.monotonic()
        async with http_load.new_session() as http:
            cookies = await http_load.accounts(http, server.url, usernames)
            for r in range(cfg.rooms):
                await http_load.create_room(http, server.url, cookies[0], f"bench-{r}")
            # As start_fanout places them: client i in room i % rooms.
            await http_load.join_rooms(
                http,
                server.url,
                [(cookie, f"bench-{i % cfg.rooms}") for i, cookie in enumerate(cookies) if i],
            )
        t0 = round(time.monotonic() - started, 2)
        out["setup"] = {"users": len(usernames), "register_and_login_s": t0}
        log(f"parley: {len(usernames)} users registered and logged in in {t0:.1f} s")
        # HTTP first, while the messages table is small: moto's Query reads every item of the
        # table (not just the room's), so after the fan-out it measures moto, not Parley.
        await seed_history(server.url, cookies[0], "history", cfg.history_messages)
        out["http"] = await http_scenario(stack, server, cfg, usernames, cookies, "history")
        out["http"]["endpoint_alone"] = await endpoint_reference(stack, "history")
        out["fanout"] = await fanout_scenario(
            stack, server, cfg, list(cookies), profile_to=f"{stem}-profile"
        )
        if not cfg.capacity_fresh_server:
            out["capacity"] = await parley_capacity(stack, server, cfg, usernames)
    finally:
        server.stop()
    start = partial(stack.start_parley, fds=cfg.fds)
    if cfg.capacity_fresh_server:
        out["capacity"] = await on_own_server(
            start, lambda server: parley_capacity(stack, server, cfg, usernames)
        )
    if cfg.capacity_deflate_sockets:
        out["capacity_deflate"] = await on_own_server(
            start, lambda server: parley_capacity(stack, server, cfg, usernames, deflate=True)
        )
    return out


async def parley_capacity(
    stack: Stack, server: Server, cfg: Config, usernames: list[str], *, deflate: bool = False
) -> dict[str, Any]:
    count = cfg.capacity_deflate_sockets if deflate else cfg.capacity_sockets
    keys = await http_load.seed_sessions(stack.redis_url, usernames, count, SESSION_TTL)
    result = await capacity_scenario(server, cfg, list(keys), deflate=deflate)
    result["sessions"] = "seeded in Redis (sess:<digest>, as in docs/reference.md), one per socket"
    log(_capacity_line(server.name, result))
    return result


async def baseline_part(stack: Stack, cfg: Config, stem: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    server = stack.start_baseline(fds=cfg.fds)
    log(f"baseline server pid {server.pid} at {server.url}")
    try:
        out["fanout"] = await fanout_scenario(
            stack, server, cfg, [None] * cfg.clients, profile_to=f"{stem}-baseline-profile"
        )
        if not cfg.capacity_fresh_server:
            out["capacity"] = await baseline_capacity(server, cfg)
    finally:
        server.stop()
    start = partial(stack.start_baseline, fds=cfg.fds)
    if cfg.capacity_fresh_server:
        out["capacity"] = await on_own_server(start, lambda server: baseline_capacity(server, cfg))
    if cfg.capacity_deflate_sockets:
        out["capacity_deflate"] = await on_own_server(
            start, lambda server: baseline_capacity(server, cfg, deflate=True)
        )
    return out


async def baseline_capacity(
    server: Server, cfg: Config, *, deflate: bool = False
) -> dict[str, Any]:
    count = cfg.capacity_deflate_sockets if deflate else cfg.capacity_sockets
    result = await capacity_scenario(server, cfg, [None] * count, deflate=deflate)
    log(_capacity_line(server.name, result))
    return result


async def on_own_server(
    start: Callable[[], Server], measure: Callable[[Server], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """One measurement on a freshly started server, stopped afterwards."""
    server = start()
    try:
        return await measure(server)
    finally:
        server.stop()


def _capacity_line(name: str, c: dict[str, Any]) -> str:
    deflate = " (permessage-deflate)" if c["permessage_deflate_offered"] else ""
    return (
        f"{name}: capacity{deflate} {c['connected']}/{c['sockets']} sockets, "
        f"{c['connects_per_s']} conn/s, "
        f"RSS {c['rss_before_mib']} -> {c['rss_after_mib']} MiB = "
        f"{c['rss_per_socket_kib']} KiB/socket, "
        f"{c['still_connected_after_hold']} alive after {c['hold_seconds']} s"
    )


async def run(cfg: Config, stem: str) -> dict[str, Any]:
    started = time.monotonic()
    workdir = RESULTS / "tmp" / stem
    shutil.rmtree(workdir, ignore_errors=True)  # the previous run's service data and logs
    log(f"mode {cfg.mode}: starting Redis and the DynamoDB endpoint in {workdir}")
    stack = await asyncio.to_thread(start_stack, workdir, message_rate=cfg.message_rate_limit)
    try:
        results: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": cfg.mode,
            "machine": machine(),
            "settings": dataclasses.asdict(cfg)
            | {
                "server_env": {k: v for k, v in stack.env.items() if not k.startswith("AWS_")},
                "loadgen": "bench/lean_client.py (aiohttp WebSocket, Engine.IO v4 text frames), "
                f"{cfg.loadgen_procs} process(es), uvloop",
            },
        }
        results["parley"] = await parley_part(stack, cfg, stem)
        results["baseline"] = await baseline_part(stack, cfg, stem)
    finally:
        await asyncio.to_thread(stack.stop)
    results["comparison"] = compare(results, cfg)
    results["node_client"] = await node_compare.compare(cfg.node, workdir, cfg.fds)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


def compare(results: dict[str, Any], cfg: Config) -> dict[str, Any]:
    p, b = results["parley"], results["baseline"]
    pm, bm = p["fanout"]["main"], b["fanout"]["main"]
    pd, bd = pm["delivery_ms"], bm["delivery_ms"]
    # The history target is judged unloaded (the lowest concurrency measured): above that the
    # local DynamoDB endpoint, not Parley, sets the queueing (see the endpoint-alone figures).
    levels = sorted(p["http"]["levels"], key=lambda lvl: lvl["concurrency"])
    history_p99 = levels[0]["history"]["latency_ms"].get("p99") if levels else None
    targets = {
        "fanout_zero_loss_dup_order": pm["lost"] == 0
        and pm["duplicates"] == 0
        and pm["out_of_order"] == 0
        and pm["acked"] == pm["sent"] == pm["planned"],
        "fanout_p99_within_1.5x_baseline": pd.get("p99") is not None
        and bd.get("p99") is not None
        and pd["p99"] <= 1.5 * bd["p99"],
        "rss_per_socket_under_30_kib": p["capacity"]["rss_per_socket_kib"] < 30,
        "capacity_all_connected": p["capacity"]["connected"] == cfg.capacity_sockets,
        "history_p99_under_25_ms": history_p99 is not None and history_p99 < 25,
    }
    return {
        "delivery_p50_ratio": ratio(pd.get("p50"), bd.get("p50")),
        "delivery_p99_ratio": ratio(pd.get("p99"), bd.get("p99")),
        "ack_p99_ratio": ratio(pm["ack_ms"].get("p99"), bm["ack_ms"].get("p99")),
        "deliveries_per_s_ratio": ratio(pm["deliveries_per_s"], bm["deliveries_per_s"]),
        "max_sustained_rate_ratio": ratio(
            p["fanout"].get("max_sustained_rate"), b["fanout"].get("max_sustained_rate")
        ),
        "rss_per_socket_ratio": ratio(
            p["capacity"]["rss_per_socket_kib"], b["capacity"]["rss_per_socket_kib"]
        ),
        "connect_rate_ratio": ratio(
            p["capacity"]["connects_per_s"], b["capacity"]["connects_per_s"]
        ),
        "history_p99_unloaded_ms": history_p99,
        "history_concurrency_judged": levels[0]["concurrency"] if levels else None,
        "targets": targets,
    }


def issue_targets(results: dict[str, Any]) -> dict[str, Any]:
    """Every target of #13 in one place: each scenario's verdicts of the side-by-side run, and
    the capacity, history and login figures of this run."""
    levels = sorted(results["parley"]["http"]["levels"], key=lambda lvl: lvl["concurrency"])
    login_p99 = levels[0]["login"]["latency_ms"].get("p99") if levels else None
    return {
        "scenarios": {sc["name"]: sc["verdicts"] for sc in results["node_client"]["scenarios"]},
        "process": compare_summary.process_targets(
            results["parley"].get("capacity"),
            results["comparison"]["history_p99_unloaded_ms"],
            login_p99,
        ),
    }


def targets_markdown(targets: dict[str, Any]) -> str:
    lines = ["### Targets of #13", "", "| target | met | measured |", "|---|:-:|---|"]
    items = [(f"{name}: {v['target']}", v) for name, vs in targets["scenarios"].items() for v in vs]
    items += [(v["target"], v) for v in targets["process"]]
    for label, v in items:
        lines.append(f"| {label} | {compare_summary.flag(v['ok'])} | {v['detail']} |")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    """The run's configuration from the command line (exits on a usage error)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the short run (a few minutes)")
    parser.add_argument("--procs", type=int, help="load-generator processes (default 1)")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--rooms", type=int)
    parser.add_argument("--senders", type=int)
    parser.add_argument("--rate", type=float, help="fan-out offered rate, messages/s")
    parser.add_argument("--duration", type=float, help="fan-out duration, s")
    parser.add_argument("--capacity", type=int, help="idle sockets for the capacity scenario")
    parser.add_argument("--sweep", help="comma-separated offered rates for the sweep")
    parser.add_argument(
        "--deflate", action="store_true", help="fan-out clients offer permessage-deflate"
    )
    parser.add_argument(
        "--node-only",
        action="store_true",
        help="only the side-by-side run under socket.io-client (parley / node / baseline)",
    )
    parser.add_argument(
        "--node-scenario",
        choices=[*node_compare.SCENARIOS, "all"],
        default="all",
        help="which load of that run: fanout (500 users, 50 senders), message (100 users, all "
        "sending) or all (default)",
    )
    parser.add_argument("--node-rates", help="comma-separated listed rates of that run, msg/s")
    parser.add_argument("--node-sweep", help="comma-separated sweep rates past those ('' none)")
    parser.add_argument("--node-rounds", type=int, help="rounds of that run (default 2)")
    parser.add_argument("--node-servers", help="comma-separated subset of parley,node,baseline")
    parser.add_argument(
        "--tag",
        help="name the results <date>-TAG[-node].* instead of <date>[-node].* (no overwriting "
        "an earlier run of the same day)",
    )
    args = parser.parse_args(argv)
    if args.tag is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", args.tag):
        parser.error("--tag: letters, digits, '.', '_' and '-' only")
    cfg = Config.quick() if args.quick else Config(mode="full")
    scenario_overrides = {
        "clients": args.clients,
        "senders": args.senders,
        "duration": args.duration,
        "rates": [float(r) for r in args.node_rates.split(",") if r]
        if args.node_rates is not None
        else None,
        "sweep": [float(r) for r in args.node_sweep.split(",") if r]
        if args.node_sweep is not None
        else None,
    }
    scenarios = [
        dataclasses.replace(sc, **{k: v for k, v in scenario_overrides.items() if v is not None})
        for sc in cfg.node.scenarios
        if args.node_scenario in ("all", sc.name)
    ]
    if any(not (sc.rates or sc.sweep) for sc in scenarios):
        parser.error("a scenario needs at least one rate (--node-rates or --node-sweep)")
    node_overrides = {
        "procs": args.procs,
        "rounds": args.node_rounds,
        "servers": tuple(args.node_servers.split(",")) if args.node_servers else None,
    }
    cfg.node = dataclasses.replace(
        cfg.node,
        scenarios=scenarios,
        **{k: v for k, v in node_overrides.items() if v is not None},
    )
    overrides = {
        "loadgen_procs": args.procs,
        "clients": args.clients,
        "rooms": args.rooms,
        "senders": args.senders,
        "rate": args.rate,
        "duration": args.duration,
        "capacity_sockets": args.capacity,
        "sweep_rates": [float(r) for r in args.sweep.split(",")] if args.sweep else None,
        "deflate": True if args.deflate else None,
    }
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if cfg.senders > cfg.clients:
        parser.error("--senders must not exceed --clients")
    return cfg, args


def stem_of(cfg: Config, date: str, tag: str | None) -> str:
    """The results' file name before the suffix: <date>[-quick][-TAG]."""
    stem = date if cfg.mode == "full" else f"{date}-quick"
    return f"{stem}-{tag}" if tag else stem


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse(argv)
    raise_fd_limit(cfg.fds)
    stem = stem_of(cfg, datetime.now().strftime("%Y-%m-%d"), args.tag)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.node_only:
        return node_only(cfg, f"{stem}-node")
    results = asyncio.run(run(cfg, stem))
    json_path = RESULTS / f"{stem}.json"
    png_path = RESULTS / f"{stem}.png"
    md_path = RESULTS / f"{stem}.md"
    side_png = RESULTS / f"{stem}-side-by-side.png"
    results["plot"] = _rel(png_path)
    results["node_client"]["plot"] = _rel(side_png)
    results["issue13_targets"] = issue_targets(results)
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    report.plot(results, png_path)
    report.plot_compare(results["node_client"], side_png)
    table = "\n\n".join(
        [
            report.markdown(results),
            node_compare.markdown(results["node_client"]),
            targets_markdown(results["issue13_targets"]),
        ]
    )
    md_path.write_text(table + "\n")
    print()
    print(table)
    print()
    log(f"results: {_rel(json_path)}, plot: {_rel(png_path)}, table: {_rel(md_path)}")
    log(f"done in {results['elapsed_s']} s")
    return 0


def node_only(cfg: Config, stem: str) -> int:
    started = time.monotonic()
    workdir = RESULTS / "tmp" / stem
    result = asyncio.run(node_compare.compare(cfg.node, workdir, cfg.fds))
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine()
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    json_path = RESULTS / f"{stem}.json"
    md_path = RESULTS / f"{stem}.md"
    png_path = RESULTS / f"{stem}.png"
    result["plot"] = _rel(png_path)
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    report.plot_compare(result, png_path)
    table = node_compare.markdown(result)
    md_path.write_text(table + "\n")
    print()
    print(table)
    print()
    log(
        f"results: {_rel(json_path)}, table: {_rel(md_path)}, plot: {_rel(png_path)}; "
        f"{result['elapsed_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
