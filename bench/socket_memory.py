"""Memory per authenticated idle socket of `parley serve`, and what holds it.

    .venv/bin/python -m bench.socket_memory                 # 2,000 sockets, RSS and tracemalloc
    .venv/bin/python -m bench.socket_memory --sockets 10000 --no-trace

Starts Redis and moto (bench/stack.py), serves Parley's ASGI app in this process with the
uvicorn settings of `parley serve` (parley/cli.py), and opens the sockets from a child process:
each one a WebSocket with its own session cookie (sessions seeded in Redis as
bench/http_load.py does) and its own client address (`X-Bench-Client` with the front's
secret, so the per-address cap does not apply), connected to the default namespace,
answering pings. After a warm-up of 100 sockets, memory is read before and after the rest
connect, with a garbage collection first: the RSS delta per socket, and (unless --no-trace)
tracemalloc's delta per socket, with the source lines that allocated most of it. Also the
size of one socket's Connection object (parley/realtime/namespace.py) and everything it
holds."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

WARM_UP = 100
HOLD_SECONDS = 3.0


def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of `obj` and of everything it holds that no module or class owns."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type) or obj is None:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(deep_size(item, seen) for item in obj)
    elif hasattr(obj, "__dict__"):
        size += deep_size(vars(obj), seen)
    for slot in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, slot):
            size += deep_size(getattr(obj, slot), seen)
    return size


# ------------------------------------------------------------------------------ clients


async def _clients(url: str, cookies: list[str], first: int, ready: str) -> None:
    import aiohttp

    from bench.lean_client import address_headers

    socks: list[Any] = []
    readers: list[asyncio.Task[None]] = []

    async def answer_pings(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT and frame.data == "2":
                await ws.send_str("3")

    async def one(session: aiohttp.ClientSession, i: int, cookie: str) -> None:
        # Its own client address, as the trusted front would send it (bench/lean_client.py).
        headers = {"Cookie": f"parley_session={cookie}", **address_headers(i)}
        for _ in range(20):  # a busy machine: a connect may time out and be retried
            ws = await session.ws_connect(url, headers=headers)
            try:
                opened = await ws.receive_str()
                assert opened.startswith("0"), opened
                await ws.send_str("40")
                connected = await ws.receive_str()
            except aiohttp.WSMessageTypeError:  # closed past the server's connect deadline
                connected = "1"
            if connected.startswith("40{"):
                socks.append(ws)
                readers.append(asyncio.create_task(answer_pings(ws)))
                return
            # Refused as unavailable, or closed ("1") past the server's connect deadline.
            assert '"unavailable"' in connected or connected == "1", connected
            await ws.close()
            await asyncio.sleep(1.0)
        raise RuntimeError("the server kept answering unavailable")

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        limit = asyncio.Semaphore(10)

        async def bounded(i: int, cookie: str) -> None:
            async with limit:
                await one(session, i, cookie)

        await asyncio.gather(*(bounded(first + i, c) for i, c in enumerate(cookies)))
        Path(ready).write_text(str(len(socks)))  # noqa: ASYNC240 (once, a few bytes)
        await asyncio.sleep(3600)  # until the parent ends this process


def client_main(args: argparse.Namespace) -> None:
    import uvloop

    cookies = Path(args.cookies).read_text().split()
    uvloop.run(_clients(args.client, cookies, args.first, args.ready))


# ------------------------------------------------------------------------------- server


def start_clients(url: str, cookies: list[str], first: int, workdir: Path) -> tuple[Any, Path]:
    cookie_file = workdir / f"cookies-{first}.txt"
    cookie_file.write_text("\n".join(cookies))
    ready = workdir / f"ready-{first}"
    argv = [sys.executable, "-m", "bench.socket_memory", "--client", url,
            "--cookies", str(cookie_file), "--first", str(first),
            "--ready", str(ready)]  # fmt: skip
    return subprocess.Popen(argv, cwd=Path(__file__).resolve().parent.parent), ready


async def wait_ready(process: Any, ready: Path, seconds: float) -> int:
    """The number of sockets the client process connected, once it has written it."""
    deadline = time.monotonic() + seconds
    while not ready.exists():  # noqa: ASYNC240 (a child process's file, polled)
        if process.poll() is not None:
            raise RuntimeError(f"the clients exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError("the clients did not connect in time")
        await asyncio.sleep(0.2)
    return int(ready.read_text())  # noqa: ASYNC240


async def measure(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> None:
    import uvicorn

    from bench.http_load import seed_sessions
    from parley.app import create_app
    from parley.config import load_settings
    from parley.devstack.services import free_port
    from parley.realtime.server import MAX_PACKET_BYTES

    os.environ.update(env)
    settings = load_settings()
    port = free_port()
    config = uvicorn.Config(  # as parley/cli.py _serve
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=True,
        ws_per_message_deflate=False,
        ws_max_size=MAX_PACKET_BYTES,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.1)
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    users = [f"user{i:05d}" for i in range(max(args.sockets // 10, 1))]
    cookies = await seed_sessions(env["PARLEY_REDIS_URL"], users, args.sockets + WARM_UP, 3600)
    me = psutil.Process()

    warm, warm_ready = start_clients(url, cookies[:WARM_UP], 0, workdir)
    await wait_ready(warm, warm_ready, 120)
    await asyncio.sleep(HOLD_SECONDS)
    gc.collect()
    rss_before = me.memory_info().rss
    before = tracemalloc.take_snapshot() if args.trace else None

    rest, rest_ready = start_clients(url, cookies[WARM_UP:], WARM_UP, workdir)
    try:
        connected = await wait_ready(rest, rest_ready, 600)
        await asyncio.sleep(HOLD_SECONDS)
        gc.collect()
        rss_after = me.memory_info().rss
        after = tracemalloc.take_snapshot() if args.trace else None
        from parley.realtime.namespace import Connection

        # Made after start-up, so not among the objects gc.freeze() set aside (parley/app.py).
        connections = [o for o in gc.get_objects() if isinstance(o, Connection)]
        tracing = "on" if args.trace else "off"
        print(f"sockets connected: {connected} (+{WARM_UP} warm-up), tracemalloc {tracing}")
        print(f"RSS: {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB = "
              f"{(rss_after - rss_before) / connected / 1024:.1f} KiB per socket")  # fmt: skip
        if connections:
            print(f"Connection object (parley/realtime/namespace.py), deep: "
                  f"{deep_size(connections[-1]) / 1024:.2f} KiB")  # fmt: skip
        if before is not None and after is not None:
            stats = after.compare_to(before, "lineno")
            total = sum(s.size_diff for s in stats)
            print(f"tracemalloc: {total / connected / 1024:.1f} KiB per socket; by source line:")
            for stat in stats[: args.top]:
                frame = stat.traceback[0]
                name = "/".join(Path(frame.filename).parts[-3:])
                print(f"  {stat.size_diff / connected:8.0f} B  {stat.count_diff / connected:6.1f} "
                      f"blocks  {name}:{frame.lineno}")  # fmt: skip
    finally:
        for process in (rest, warm):
            process.terminate()
            process.wait(10)
        server.should_exit = server.force_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(serving, 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--no-trace", dest="trace", action="store_false")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--cookies", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    from bench.stack import raise_fd_limit, start_stack

    raise_fd_limit(args.sockets * 2 + 4096)
    if args.trace:
        tracemalloc.start(1)
    workdir = Path(tempfile.mkdtemp(prefix="parley-socket-memory-"))
    stack = start_stack(workdir, message_rate=10)
    try:
        import uvloop

        uvloop.run(measure(args, stack.env, workdir))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
