"""`make run-cluster`: several `parley serve` instances behind HAProxy, on a local 3-primary
Redis Cluster and moto's DynamoDB, for anyone who wants to see instances work together.

HAProxy balances new clients round-robin and pins each to its instance with a cookie it inserts
(`parley_instance`): Engine.IO's long-polling sends each request of one connection separately,
and only the instance that made the connection knows it (WebSockets are one request and would
not need it). Every instance reads the stream lease in turn, as in production."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from parley.config import load_settings
from parley.devstack.cluster import start_cluster
from parley.devstack.services import LOOPBACK, die_with_parent, free_port, http_url, start_dynamodb

log = logging.getLogger("parley.run_cluster")

STICKY_COOKIE = "parley_instance"
READY_SECONDS = 60


def haproxy_config(port: int, instances: list[int]) -> str:
    servers = "\n".join(
        f"    server app{n} {LOOPBACK}:{p} check cookie app{n}"
        for n, p in enumerate(instances, start=1)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # A WebSocket, once upgraded, is a tunnel: idle up to the Engine.IO ping interval and more.
    timeout tunnel 1h

frontend parley
    bind {LOOPBACK}:{port}
    default_backend instances

backend instances
    balance roundrobin
    cookie {STICKY_COOKIE} insert indirect nocache httponly
    option httpchk GET /readyz
{servers}
"""


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"run-cluster: {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"run-cluster: {url} not ready within {READY_SECONDS} s")


def _child(argv: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    with log_file.open("ab") as output:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(port: int, count: int, data_dir: Path) -> int:
    # moto takes any credentials; boto3 needs some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "parley-local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "parley-local")
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit("run-cluster: no haproxy: run 'sudo apt-get install haproxy'")
    with ExitStack() as children:
        cluster = start_cluster(data_dir / "redis")
        children.callback(cluster.stop)
        dynamodb = start_dynamodb(data_dir / "dynamodb")
        children.callback(dynamodb.stop)
        origin = f"http://{LOOPBACK}:{port}"
        env = {
            **os.environ,
            "PARLEY_REDIS_URL": cluster.url,
            "PARLEY_REDIS_CLUSTER": "true",
            "PARLEY_DYNAMODB_ENDPOINT": http_url(dynamodb),
            "PARLEY_COOKIE_SECURE": "false",
            "PARLEY_ALLOWED_ORIGINS": f"{origin},http://localhost:{port}",
        }
        from parley.cli import _create_tables

        asyncio.run(_create_tables(load_settings(dynamodb_endpoint=http_url(dynamodb))))
        ports = [free_port() for _ in range(count)]
        for instance_port in ports:
            argv = [sys.executable, "-m", "parley", "serve", "--port", str(instance_port)]
            process = _child(argv, env, data_dir / f"app-{instance_port}.log")
            children.callback(_stop, process)
            _wait_ready(f"http://{LOOPBACK}:{instance_port}", process)
        config = data_dir / "haproxy.cfg"
        config.write_text(haproxy_config(port, ports))
        balancer = _child([haproxy, "-db", "-f", str(config)], env, data_dir / "haproxy.log")
        children.callback(_stop, balancer)
        _wait_ready(origin, balancer)
        print(
            f"Parley is at {origin}: {count} instances ({', '.join(map(str, ports))}) behind "
            f"HAProxy, Redis Cluster at {cluster.url}, logs in {data_dir}",
            flush=True,
        )
        try:
            balancer.wait()
        except KeyboardInterrupt:
            return 0
        raise SystemExit(f"run-cluster: haproxy exited with {balancer.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run-cluster", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PARLEY_PORT", "8000")))
    parser.add_argument("--instances", type=int, default=3, choices=range(1, 9))
    args = parser.parse_args(argv)

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    data_dir = Path(tempfile.mkdtemp(prefix="parley-cluster-"))
    try:
        return run(args.port, args.instances, data_dir)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
