"""Real processes for the tests: the app under uvicorn (`parley serve`), on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from parley.devstack.services import die_with_parent, free_port


@dataclass
class AppServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    @property
    def origin(self) -> str:
        return self.url

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_app(env: Mapping[str, str], log_dir: Path, *, port: int | None = None) -> AppServer:
    port = port or free_port()
    full_env = {**os.environ, **env, "PARLEY_HOST": "127.0.0.1", "PARLEY_PORT": str(port)}
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"app-{port}.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve"],
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # A test run that is killed leaves no app behind.
            preexec_fn=die_with_parent,
        )
    server = AppServer(f"http://127.0.0.1:{port}", port, process, full_env, log)
    wait_healthy(server)
    return server


# A cold start imports botocore, FastAPI and python-socketio: a few seconds alone, but over
# 30 s on a busy 2-core machine under coverage (`make coverage`), as `parley dev` allows.
START_TIMEOUT_SECONDS = 60.0


def wait_healthy(server: AppServer, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"app exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"app not ready within {timeout} s:\n{server.output()}")
