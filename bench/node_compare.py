"""The fan-out side by side under the official socket.io-client 4 (bench/node/loadgen.js):
Parley, the seed's Node.js stack (bench/node/server.js: socket.io 4, the Redis adapter, each
message stored in DynamoDB before its ack) and the bare python-socketio baseline, in rounds
alternated A B C A B C on the same machine, each server with a fresh Redis and DynamoDB
endpoint. Every phase reports the load generator's own CPU beside the servers'."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from redis.asyncio import Redis

from bench import http_load
from bench.lean_client import BENCH_ORIGIN_SECRET, client_address
from bench.loadgen import ConnectReport
from bench.node_worker import NODE_DIR, NodeWorker, node_binary
from bench.stack import (
    REPO,
    Server,
    Stack,
    _http_ok,
    _server_preexec,
    _tcp_open,
    _wait,
    start_stack,
)
from bench.stats import summary_ms

SERVERS = ("parley", "node", "baseline")
# Two `parley serve` processes on one machine, sharing the room through Redis (users
# alternate between them; with WebSocket-only clients no sticky routing is needed). Not in
# the default set: `--node-servers parley,parley-x2,node`.
WORKERS_2 = "parley-x2"


@dataclass
class CompareConfig:
    clients: int = 500
    senders: int = 50
    rates: list[float] = field(default_factory=lambda: [50.0, 100.0])
    duration: float = 15.0
    # Past the listed rates, the sweep for the highest zero-loss rate (p99 < 250 ms); it stops
    # at the first failing step.
    sweep: list[float] = field(default_factory=lambda: [150.0, 200.0, 300.0, 400.0])
    sweep_duration: float = 8.0
    rounds: int = 2
    procs: int = 1
    connect_concurrency: int = 100
    servers: tuple[str, ...] = SERVERS


def quick() -> CompareConfig:
    return CompareConfig(
        clients=40, senders=4, rates=[20.0, 80.0], duration=2.0, sweep=[], rounds=2
    )


def log(text: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {text}", flush=True)


def start_node_server(stack: Stack, *, fds: int) -> Server:
    from parley.devstack.services import free_port

    port = free_port()
    argv = [
        node_binary(),
        str(NODE_DIR / "server.js"),
        "--port",
        str(port),
        "--redis",
        stack.redis_url,
        "--dynamodb",
        stack.env["PARLEY_DYNAMODB_ENDPOINT"],
        "--table",
        f"{stack.env['PARLEY_TABLE_PREFIX']}messages",
    ]
    log_path = stack.workdir / "logs" / f"node-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{k: v for k, v in stack.env.items() if k.startswith("AWS_")}}
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_server_preexec(fds),
        )
    server = Server("node", f"http://127.0.0.1:{port}", process, log_path)
    stack.servers.append(server)
    _wait(lambda: _tcp_open(port), server, 30)
    return server


def reference_trees() -> dict[str, Path]:
    """Other checkouts of Parley to run beside this one, as "parley-<label>" servers:
    PARLEY_BENCH_TREES="before=/path/to/checkout,..." (before/after measurements in one run,
    with this checkout's virtualenv)."""
    trees: dict[str, Path] = {}
    for item in os.environ.get("PARLEY_BENCH_TREES", "").split(","):
        if "=" in item:
            label, path = item.split("=", 1)
            trees[f"parley-{label.strip()}"] = Path(path.strip()).resolve()
    return trees


REFERENCE_TREES = reference_trees()


def start_parley_from(stack: Stack, tree: Path, name: str, *, fds: int) -> Server:
    from parley.devstack.services import free_port

    port = free_port()
    env = {
        **os.environ,
        **stack.env,
        "PARLEY_HOST": "127.0.0.1",
        "PARLEY_PORT": str(port),
        "PYTHONPATH": str(tree),
    }
    argv = [sys.executable, "-m", "parley", "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = stack.workdir / "logs" / f"{name}-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=tree,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_server_preexec(fds),
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    stack.servers.append(server)
    _wait(lambda: _http_ok(f"{server.url}/readyz"), server, 60)
    return server


async def node_sessions(redis_url: str, count: int) -> list[str]:
    """The reference server's sessions (`nodesess:<cookie>` = username), as connect-redis
    keeps them; one per client."""
    redis = Redis.from_url(redis_url)
    keys = [secrets.token_urlsafe(24) for _ in range(count)]
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for i, key in enumerate(keys):
                pipe.set(f"nodesess:{key}", f"user{i:05d}", ex=3600)
            await pipe.execute()
    finally:
        await redis.aclose()
    return keys


async def parley_cookies(url: str, redis_url: str, count: int) -> list[str]:
    """One account registered and logged in through the API (it creates the room); the
    clients' sessions written straight into Redis in the documented format, one per client
    (as the capacity scenario does: login is measured on its own)."""
    tag = secrets.token_hex(2)
    usernames = [f"cmp{tag}_{i:05d}" for i in range(count)]
    async with http_load.new_session() as http:
        owner = await http_load.accounts(http, url, usernames[:1])
        await http_load.create_room(http, url, owner[0], "bench-0")
    seeded = await http_load.seed_sessions(redis_url, usernames, count - 1, 3600)
    return owner + seeded


async def one_server(name: str, cfg: CompareConfig, workdir: Path, fds: int) -> dict[str, Any]:
    from bench.run import Config, FanoutRun, _joined, _phase_line

    stack = await asyncio.to_thread(start_stack, workdir, message_rate=10_000)
    try:
        more: list[Server] = []  # "parley-x2": a second `parley serve` on the same Redis
        if name.startswith("parley"):
            server = (
                start_parley_from(stack, REFERENCE_TREES[name], name, fds=fds)
                if name in REFERENCE_TREES
                else stack.start_parley(fds=fds)
            )
            if name == WORKERS_2:
                more.append(stack.start_parley(fds=fds))
            cookies: list[str | None] = [
                f"{http_load.COOKIE_NAME}={c}"
                for c in await parley_cookies(server.url, stack.redis_url, cfg.clients)
            ]
        elif name == "node":
            server = start_node_server(stack, fds=fds)
            keys = await node_sessions(stack.redis_url, cfg.clients)
            cookies = [f"{http_load.COOKIE_NAME}={k}" for k in keys]
        else:
            server = stack.start_baseline(fds=fds)
            cookies = [None] * cfg.clients
        procs = max(1, min(cfg.procs, cfg.clients))
        workers = []
        for p in range(procs):
            mine = list(range(p, cfg.clients, procs))
            local = {index: pos for pos, index in enumerate(mine)}
            spec = {
                "url": server.url,
                # Users alternate between the instances; they share the room through Redis.
                "urls": [server.url, *(other.url for other in more)],
                "clients": [
                    {
                        "index": i,
                        "cookie": cookies[i],
                        "room": "bench-0",
                        "address": client_address(i),
                    }
                    for i in mine
                ],
                "senders": {str(s): local[s] for s in range(cfg.senders) if s in local},
                "totalSenders": cfg.senders,
                "originSecret": BENCH_ORIGIN_SECRET,
                "connectConcurrency": cfg.connect_concurrency,
            }
            workers.append(NodeWorker(spec, workdir / "logs" / f"loadgen-{name}-{p}.log"))
        reports: list[ConnectReport] = []
        members: list[int] = []
        for worker in workers:
            _, ready = await worker.recv(300)
            reports.append(ready["report"])
            members.extend(ready["members"])
        connect = {
            "connected": sum(r.connected for r in reports),
            "failed": sum(r.failed for r in reports),
            "errors": dict(sum((r.errors for r in reports), Counter())),
            "connect_seconds": round(max(r.seconds for r in reports), 2),
            "connect_ms": summary_ms(_joined(r.connect_latency_us for r in reports)),
            "joined": sum(r.joined for r in reports),
            "join_errors": dict(sum((r.join_errors for r in reports), Counter())),
        }
        log(f"{name}: {connect['connected']} connected, {connect['joined']} joined")
        bench_cfg = Config(
            mode="compare",
            clients=cfg.clients,
            rooms=1,
            senders=cfg.senders,
            quiet_s=1.0,
            drain_max_s=12.0,
            ack_timeout_s=10.0,
        )
        run = FanoutRun(
            server=server,
            config=bench_cfg,
            workers=workers,  # type: ignore[arg-type]
            room_of_sender=["bench-0"] * cfg.senders,
            room_size=Counter({"bench-0": len(members)}),
            connect=connect,
        )
        pids = {"server": server.pid, **stack.service_pids()}
        pids |= {f"server{n + 2}": other.pid for n, other in enumerate(more)}
        pids |= {f"loadgen{i}": w.pid() for i, w in enumerate(workers)}
        if name == "baseline":
            pids = {k: v for k, v in pids.items() if k not in ("redis", "dynamodb")}
        out: dict[str, Any] = {"connect": connect, "phases": []}
        try:
            await run.phase(min(cfg.rates), 1.0, pids)  # warm-up
            steps = [(r, cfg.duration) for r in cfg.rates]
            steps += [(r, cfg.sweep_duration) for r in cfg.sweep]
            for rate, duration in steps:
                load = os.getloadavg()[0]
                phase = await run.phase(rate, duration, pids)
                phase["load_average_1m"] = round(load, 2)
                out["phases"].append(phase)
                log(f"{name} {rate:g} msg/s: {_phase_line(phase)} (load {load:.2f})")
                if rate not in cfg.rates and not phase["passed"]:
                    break
        finally:
            await run.close()
            out["server_rss_mib"] = (
                round(server.rss() / 2**20, 1) if server.process.poll() is None else None
            )
            server.stop()
            for other in more:
                other.stop()
        return out
    finally:
        await asyncio.to_thread(stack.stop)


async def compare(cfg: CompareConfig, workdir: Path, fds: int) -> dict[str, Any]:
    node_binary()
    log(
        f"{cfg.clients} clients, 1 room, {cfg.senders} senders, rates {cfg.rates} x "
        f"{cfg.duration:g} s, sweep {cfg.sweep}; rounds {cfg.rounds} ({' '.join(cfg.servers)})"
    )
    rounds: list[dict[str, Any]] = []
    for r in range(cfg.rounds):
        entry: dict[str, Any] = {}
        for name in cfg.servers:
            sub = workdir / f"compare-{r}-{name}"
            shutil.rmtree(sub, ignore_errors=True)
            entry[name] = await one_server(name, cfg, sub, fds)
        rounds.append(entry)
    return {
        "settings": {
            "clients": cfg.clients,
            "senders": cfg.senders,
            "rates": cfg.rates,
            "duration_s": cfg.duration,
            "sweep": cfg.sweep,
            "sweep_duration_s": cfg.sweep_duration,
            "rounds": cfg.rounds,
            "servers": list(cfg.servers),
            "loadgen": "bench/node/loadgen.js: socket.io-client "
            + _version("socket.io-client")
            + f", transports ['websocket'], {cfg.procs} process(es)",
            "node": _node_version(),
            "cpu_count": psutil.cpu_count(),
        },
        "rounds": rounds,
        "summary": summarize(rounds, cfg),
    }


def _node_version() -> str:
    done = subprocess.run([node_binary(), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _version(package: str) -> str:
    import json

    path = NODE_DIR / "node_modules" / package / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def _median(values: list[Any]) -> float | None:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return round(float(ordered[mid - 1] + ordered[mid]) / 2, 2)


def summarize(rounds: list[dict[str, Any]], cfg: CompareConfig) -> dict[str, Any]:
    """Per server and listed rate, the medians over rounds; and the highest passing rate."""
    out: dict[str, Any] = {}
    for name in cfg.servers:
        per_rate: dict[str, Any] = {}
        for rate in cfg.rates:
            phases = [p for rnd in rounds for p in rnd[name]["phases"] if p["offered_rate"] == rate]
            if not phases:
                continue
            cpu = [p["cpu_percent"] for p in phases]
            per_rate[f"{rate:g}"] = {
                "deliveries_per_s": _median([p["deliveries_per_s"] for p in phases]),
                "p50_ms": _median([p["delivery_ms"].get("p50") for p in phases]),
                "p99_ms": _median([p["delivery_ms"].get("p99") for p in phases]),
                "ack_p99_ms": _median([p["ack_ms"].get("p99") for p in phases]),
                "sent": sum(p["sent"] for p in phases),
                "acked": sum(p["acked"] for p in phases),
                "lost": sum(p["lost"] for p in phases),
                "duplicates": sum(p["duplicates"] for p in phases),
                "out_of_order": sum(p["out_of_order"] for p in phases),
                "server_cpu": _median(
                    [sum(v for k, v in c.items() if k.startswith("server")) for c in cpu]
                ),
                "server_us_per_delivery": _median(
                    [p.get("server_cpu_us_per_delivery") for p in phases]
                ),
                "loadgen_cpu": _median(
                    [sum(v for k, v in c.items() if k.startswith("loadgen")) for c in cpu]
                ),
                "machine_cpu": _median([c.get("machine") for c in cpu]),
                "load_average_1m": _median([p.get("load_average_1m") for p in phases]),
                "passed": [p["passed"] for p in phases],
            }
        best = [
            max((p["offered_rate"] for p in rnd[name]["phases"] if p["passed"]), default=None)
            for rnd in rounds
        ]
        out[name] = {"rates": per_rate, "highest_passing_rate_per_round": best}
    return out


def markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"### Fan-out under {s['loadgen']}",
        "",
        f"{s['clients']} users in 1 room, {s['senders']} senders, ~60-byte texts, acks awaited "
        f"10 s; medians of {s['rounds']} rounds alternated parley / node / baseline, each "
        "server with a fresh Redis and DynamoDB endpoint. CPU in % of one core.",
        "",
        "| rate | server | deliveries/s | p50 ms | p99 ms | ack p99 ms | sent / acked "
        "| lost / dup / ooo | server CPU | server µs / delivery | loadgen CPU | machine CPU "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = result["summary"]
    for rate in s["rates"]:
        for name in s["servers"]:
            row = summary[name]["rates"].get(f"{rate:g}")
            if row is None:
                continue
            lines.append(
                f"| {rate:g} msg/s | {name} | {row['deliveries_per_s']:,} | {row['p50_ms']} | "
                f"{row['p99_ms']} | {row['ack_p99_ms']} | {row['sent']} / {row['acked']} | "
                f"{row['lost']} / {row['duplicates']} / {row['out_of_order']} | "
                f"{row['server_cpu']} | {row['server_us_per_delivery']} | "
                f"{row['loadgen_cpu']} | {row['machine_cpu']} | "
                f"{row['load_average_1m']} |"
            )
    lines += [
        "",
        "Highest rate passed (all acked, nothing lost/duplicated/reordered, p99 < 250 ms), "
        "per round: "
        + ", ".join(f"{n} {summary[n]['highest_passing_rate_per_round']}" for n in s["servers"]),
    ]
    return "\n".join(lines)
