"""#13's loads side by side under the official socket.io-client 4 (bench/node/loadgen.js):
Parley, the seed's Node.js stack (bench/node/server.js: socket.io 4, the Redis adapter, each
message stored in DynamoDB before its ack) and the bare python-socketio baseline, in rounds
alternated A B C A B C on the same machine, each server with a fresh Redis and DynamoDB
endpoint, one scenario after the other (SCENARIOS: the fan-out, and the per-message path).
Every phase reports the load generator's own CPU beside the servers'; the medians and the
verdicts against #13's targets are bench/compare_summary.py's."""

from __future__ import annotations

import asyncio
import dataclasses
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

from bench import compare_summary, http_load
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
class Scenario:
    """One load of the side-by-side run: users in one room, some of them sending at each
    listed rate (always measured), then a sweep for the highest zero-loss rate (all acked,
    nothing lost, duplicated or reordered, p99 < 250 ms) that stops at the first failing step
    (listed or swept)."""

    name: str
    title: str
    clients: int
    senders: int | None  # None: every user sends
    rates: list[float]
    duration: float
    sweep: list[float]
    sweep_duration: float
    targets: tuple[str, ...] = ()
    rounds: int | None = None  # None: CompareConfig.rounds

    @property
    def sending(self) -> int:
        return self.clients if self.senders is None else min(self.senders, self.clients)


def fanout_scenario() -> Scenario:
    """#13's fan-out load: 500 users, 50 senders, 50 and 100 msg/s, then the sweep."""
    return Scenario(
        name="fanout",
        title="Fan-out",
        clients=500,
        senders=50,
        rates=[50.0, 100.0],
        duration=15.0,
        sweep=[150.0, 200.0, 300.0, 400.0],
        sweep_duration=8.0,
        targets=(
            compare_summary.P99_VS_NODE,
            compare_summary.ZERO_LOSS,
            compare_summary.HIGHEST_VS_NODE,
        ),
    )


def message_scenario() -> Scenario:
    """#13's per-message load (session check, ledger, DynamoDB write, Redis publish): 100
    users, all sending. The target names 200-400 msg/s; the sweep starts far lower so that a
    server passing only below 200 still has its highest zero-loss rate found (against moto on
    2 shared cores every server fails at 200, and on 2026-11-30 with other jobs running Parley
    and the Node stack both failed at 50)."""
    return Scenario(
        name="message",
        title="Per message",
        clients=100,
        senders=None,
        rates=[],
        duration=15.0,
        sweep=[25.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0],
        sweep_duration=8.0,
        targets=(compare_summary.HIGHEST_VS_NODE,),
    )


SCENARIOS = {"fanout": fanout_scenario, "message": message_scenario}


@dataclass
class CompareConfig:
    scenarios: list[Scenario] = field(
        default_factory=lambda: [make() for make in SCENARIOS.values()]
    )
    rounds: int = 2
    procs: int = 1
    connect_concurrency: int = 100
    servers: tuple[str, ...] = SERVERS


def quick() -> CompareConfig:
    return CompareConfig(
        scenarios=[
            dataclasses.replace(
                fanout_scenario(), clients=40, senders=4, rates=[20.0, 80.0], duration=2.0, sweep=[]
            ),
            # One round: most of a round is starting the services, and the quick run stays quick.
            dataclasses.replace(
                message_scenario(), clients=20, sweep=[20.0, 60.0], sweep_duration=2.0, rounds=1
            ),
        ],
        rounds=2,
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
    (as the capacity scenario does: login is measured on its own), each then a member of the
    room through the API."""
    tag = secrets.token_hex(2)
    usernames = [f"cmp{tag}_{i:05d}" for i in range(count)]
    async with http_load.new_session() as http:
        owner = await http_load.accounts(http, url, usernames[:1])
        await http_load.create_room(http, url, owner[0], "bench-0")
        seeded = await http_load.seed_sessions(redis_url, usernames, count - 1, 3600)
        await http_load.join_rooms(http, url, [(cookie, "bench-0") for cookie in seeded])
    return owner + seeded


async def one_server(
    name: str, sc: Scenario, cfg: CompareConfig, workdir: Path, fds: int
) -> dict[str, Any]:
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
                for c in await parley_cookies(server.url, stack.redis_url, sc.clients)
            ]
        elif name == "node":
            server = start_node_server(stack, fds=fds)
            keys = await node_sessions(stack.redis_url, sc.clients)
            cookies = [f"{http_load.COOKIE_NAME}={k}" for k in keys]
        else:
            server = stack.start_baseline(fds=fds)
            cookies = [None] * sc.clients
        procs = max(1, min(cfg.procs, sc.clients))
        senders = sc.sending
        workers = []
        for p in range(procs):
            mine = list(range(p, sc.clients, procs))
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
                "senders": {str(s): local[s] for s in range(senders) if s in local},
                "totalSenders": senders,
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
            clients=sc.clients,
            rooms=1,
            senders=senders,
            quiet_s=1.0,
            drain_max_s=12.0,
            ack_timeout_s=10.0,
        )
        run = FanoutRun(
            server=server,
            config=bench_cfg,
            workers=workers,  # type: ignore[arg-type]
            room_of_sender=["bench-0"] * senders,
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
            await run.phase(min(sc.rates or sc.sweep), 1.0, pids)  # warm-up
            steps = [(r, sc.duration, False) for r in sc.rates]
            steps += [(r, sc.sweep_duration, True) for r in sc.sweep]
            failed = False
            for rate, duration, swept in steps:
                if swept and failed:
                    break  # the sweep stops at the first failing step
                load = os.getloadavg()[0]
                phase = await run.phase(rate, duration, pids)
                phase["load_average_1m"] = round(load, 2)
                phase["sweep"] = swept
                out["phases"].append(phase)
                failed = failed or not phase["passed"]
                log(f"{sc.name} {name} {rate:g} msg/s: {_phase_line(phase)} (load {load:.2f})")
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
    scenarios = []
    for sc in cfg.scenarios:
        log(
            f"{sc.name}: {sc.clients} clients, 1 room, {sc.sending} senders, rates {sc.rates} x "
            f"{sc.duration:g} s, sweep {sc.sweep} x {sc.sweep_duration:g} s; rounds "
            f"{sc.rounds or cfg.rounds} ({' '.join(cfg.servers)})"
        )
        rounds: list[dict[str, Any]] = []
        for r in range(sc.rounds or cfg.rounds):
            entry: dict[str, Any] = {}
            for name in cfg.servers:
                sub = workdir / f"compare-{sc.name}-{r}-{name}"
                shutil.rmtree(sub, ignore_errors=True)
                entry[name] = await one_server(name, sc, cfg, sub, fds)
            rounds.append(entry)
        summary = compare_summary.summarize(rounds, cfg.servers)
        scenarios.append(
            {
                "name": sc.name,
                "settings": dataclasses.asdict(sc)
                | {"senders": sc.sending, "rounds": sc.rounds or cfg.rounds},
                "rounds": rounds,
                "summary": summary,
                "verdicts": compare_summary.verdicts(summary, sc.targets, sc.rates),
            }
        )
    return {
        "settings": {
            "rounds": cfg.rounds,
            "servers": list(cfg.servers),
            "p99_limit_ms": 250.0,
            "loadgen": "bench/node/loadgen.js: socket.io-client "
            + _version("socket.io-client")
            + f", transports ['websocket'], {cfg.procs} process(es)",
            "node": _node_version(),
            "cpu_count": psutil.cpu_count(),
        },
        "scenarios": scenarios,
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


def markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"### Side by side under {s['loadgen']}",
        "",
        f"Medians over rounds alternated {' / '.join(s['servers'])}, each server "
        "with a fresh Redis and DynamoDB endpoint; ~60-byte texts, acks awaited 10 s. A step "
        f"passes when every send is acked, nothing is lost, duplicated or reordered and the "
        f"delivery p99 is under {s['p99_limit_ms']:g} ms; the sweep stops at a server's first "
        "failing step. CPU in % of one core (loadgen: the load generator's own).",
    ]
    for sc in result["scenarios"]:
        lines += ["", *scenario_markdown(sc, s["servers"])]
    if result.get("plot"):
        lines += ["", f"Plot: `{result['plot']}`."]
    return "\n".join(lines)


def scenario_markdown(sc: dict[str, Any], servers: list[str]) -> list[str]:
    st, summary = sc["settings"], sc["summary"]
    steps = []
    if st["rates"]:
        listed = ", ".join(f"{r:g}" for r in st["rates"])
        steps.append(f"measured at {listed} msg/s ({st['duration']:g} s each)")
    if st["sweep"]:
        swept = ", ".join(f"{r:g}" for r in st["sweep"])
        steps.append(f"swept {swept} msg/s ({st['sweep_duration']:g} s each)")
    lines = [
        f"#### {st['title']}: {st['clients']} users in 1 room, {st['senders']} sending",
        "",
        f"{'; then '.join(steps).capitalize()}; {st['rounds']} round(s).",
        "",
        "| rate | server | passed | deliveries/s | p50 ms | p99 ms | ack p99 ms | sent / acked "
        "| lost / dup / ooo | server CPU | server µs / delivery | loadgen CPU | machine CPU "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rates = sorted({float(k) for name in servers for k in summary[name]["rates"]})
    for rate in rates:
        for name in servers:
            row = summary[name]["rates"].get(f"{rate:g}")
            if row is None:
                continue
            lines.append(
                f"| {rate:g} msg/s | {name} | {_passed(row)} | "
                f"{_num(row['deliveries_per_s'])} | {_num(row['p50_ms'])} | "
                f"{_num(row['p99_ms'])} | {_num(row['ack_p99_ms'])} | "
                f"{row['sent']} / {row['acked']} | "
                f"{row['lost']} / {row['duplicates']} / {row['out_of_order']} | "
                f"{_num(row['server_cpu'])} | {_num(row['server_us_per_delivery'])} | "
                f"{_num(row['loadgen_cpu'])} | {_num(row['machine_cpu'])} | "
                f"{_num(row['load_average_1m'])} |"
            )
    lines += [
        "",
        "Highest zero-loss rate (every lower step passing too; per round → lower median): "
        + ", ".join(
            f"{n} {summary[n]['highest_zero_loss_per_round']} → "
            f"**{_num(summary[n]['highest_zero_loss'])}**"
            for n in servers
        )
        + " msg/s.",
    ]
    if sc["verdicts"]:
        lines += ["", "#13 targets: " + compare_summary.verdict_line(sc["verdicts"]) + "."]
    return lines


def _passed(row: dict[str, Any]) -> str:
    """Rounds passed of the rounds that reached this rate (a sweep stops at a failure)."""
    out = f"{row['rounds_passed']}/{row['rounds_run']}"
    return out if row["rounds_run"] == row["rounds"] else f"{out} ({row['rounds']} rounds)"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,g}" if isinstance(value, float) else f"{value:,}"
