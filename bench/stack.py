"""The processes under test, each separate from the load generator: a private Redis, moto's
DynamoDB server, `parley serve` and the baseline server. Also the file-descriptor limit and
per-process CPU / memory readings (psutil)."""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from bench.lean_client import BENCH_ADDRESS_HEADER, BENCH_ORIGIN_SECRET
from parley.devstack.services import (
    ChildService,
    free_port,
    http_url,
    redis_url,
    start_dynamodb,
    start_redis,
)

REPO = Path(__file__).resolve().parent.parent


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (capped by the hard limit);
    returns the limit in force. Every socket is a file descriptor, on both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft if soft != resource.RLIM_INFINITY else wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def fd_limit() -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _server_preexec(fds: int) -> Callable[[], None]:
    def preexec() -> None:
        raise_fd_limit(fds)

    return preexec


@dataclass
class Server:
    """A server process under test (Parley or the baseline)."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def fd_limit(self) -> int:
        return int(psutil.Process(self.pid).rlimit(psutil.RLIMIT_NOFILE)[0])

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Stack:
    """Redis and DynamoDB for the whole run; servers are started and stopped per scenario."""

    workdir: Path
    redis: ChildService
    dynamodb: ChildService
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return redis_url(self.redis)

    def start_parley(self, *, fds: int) -> Server:
        port = free_port()
        env = {**os.environ, **self.env, "PARLEY_HOST": "127.0.0.1", "PARLEY_PORT": str(port)}
        argv = [sys.executable, "-m", "parley", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = self._start("parley", argv, env, port, fds)
        _wait(lambda: _http_ok(f"{server.url}/readyz"), server, 60)
        return server

    def start_baseline(self, *, fds: int) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "bench.baseline_server", "--port", str(port)]
        server = self._start("baseline", argv, dict(os.environ), port, fds)
        _wait(lambda: _tcp_open(port), server, 30)
        return server

    def _start(
        self, name: str, argv: list[str], env: dict[str, str], port: int, fds: int
    ) -> Server:
        log = self.workdir / "logs" / f"{name}-{port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=REPO,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_server_preexec(fds),
            )
        server = Server(name, f"http://127.0.0.1:{port}", process, log)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.dynamodb.stop()
        self.redis.stop()

    def service_pids(self) -> dict[str, int]:
        return {"redis": self.redis.process.pid, "dynamodb": self.dynamodb.process.pid}


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _tcp_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _wait(ready: Callable[[], bool], server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{tail}")
        if ready():
            return
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} not ready within {timeout:.0f} s; see {server.log}")


def start_stack(workdir: Path, *, message_rate: int) -> Stack:
    """Redis (no persistence), moto's DynamoDB server (journaled, as `parley dev` runs it) and
    the tables. The env is what `parley serve` gets."""
    from parley.cli import _create_tables
    from parley.config import load_settings

    workdir.mkdir(parents=True, exist_ok=True)
    redis = start_redis(workdir / "redis", persist=False)
    try:
        dynamodb = start_dynamodb(workdir / f"dynamodb-{secrets.token_hex(3)}")
    except BaseException:
        redis.stop()
        raise
    env = {
        "PARLEY_REDIS_URL": redis_url(redis),
        "PARLEY_DYNAMODB_ENDPOINT": http_url(dynamodb),
        "PARLEY_TABLE_PREFIX": "bench-",
        "AWS_ACCESS_KEY_ID": "parley-bench",
        "AWS_SECRET_ACCESS_KEY": "parley-bench",
        "PARLEY_BCRYPT_ROUNDS": "4",
        "PARLEY_COOKIE_SECURE": "false",
        "PARLEY_MESSAGE_RATE": str(message_rate),
        "PARLEY_MESSAGE_BURST": str(message_rate),
        "PARLEY_SOCKET_BUDGET_SCALE": "1000",  # one socket per user sends at the bench's rate
        # Hundreds of clients register and log in at once from one address.
        "PARLEY_REGISTER_MAX_PER_ADDRESS": "1000000",
        "PARLEY_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
        # Sockets are capped per client address: each simulated user has its own
        # (bench/lean_client.py, address_headers).
        "PARLEY_CLIENT_IP_HEADER": BENCH_ADDRESS_HEADER,
        "PARLEY_ORIGIN_SECRET": BENCH_ORIGIN_SECRET,
    }
    stack = Stack(workdir, redis, dynamodb, env)
    try:
        settings = load_settings(
            redis_url=env["PARLEY_REDIS_URL"],
            dynamodb_endpoint=env["PARLEY_DYNAMODB_ENDPOINT"],
            table_prefix=env["PARLEY_TABLE_PREFIX"],
        )
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        os.environ.update({k: env[k] for k in saved})
        try:
            asyncio.run(_create_tables(settings))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    except BaseException:
        stack.stop()
        raise
    return stack


class CpuMeter:
    """CPU used between start() and stop(), in % of one core (so up to 100 x cores): each named
    process, this coordinating process, the machine as a whole, and "others": whatever else ran
    on the machine meanwhile (other users' jobs, the profiler), which the figures depend on."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._procs.setdefault("coordinator", psutil.Process(os.getpid()))
        self._start: dict[str, float] = {}
        self._machine = 0.0
        self._t0 = 0.0

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._machine = self._busy()
        self._start = {name: self._cpu(proc) for name, proc in self._procs.items()}

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        out = {
            name: round(100 * (self._cpu(proc) - self._start.get(name, 0.0)) / elapsed, 1)
            for name, proc in self._procs.items()
        }
        machine_busy = 100 * (self._busy() - self._machine) / elapsed
        out["machine"] = round(machine_busy, 1)
        out["others"] = round(
            max(machine_busy - sum(v for k, v in out.items() if k != "machine"), 0), 1
        )
        return out


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import platform

    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "fd_limit": list(fd_limit()),
    }


def pids_of(servers: Iterable[Server]) -> dict[str, int]:
    return {server.name: server.pid for server in servers}
