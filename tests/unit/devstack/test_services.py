"""The local stand-ins of `parley dev`: child processes on free loopback ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis

from parley.devstack.services import (
    ServiceError,
    free_port,
    http_url,
    redis_url,
    start_redis,
)


def test_a_free_port_can_be_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()


def test_a_private_redis_starts_and_stops(tmp_path: Path) -> None:
    service = start_redis(tmp_path / "redis", persist=False)
    try:
        assert redis_url(service) == f"redis://127.0.0.1:{service.port}/0"
        assert http_url(service) == f"http://127.0.0.1:{service.port}"
        assert redis.Redis(port=service.port).ping()
    finally:
        service.stop()
    assert service.process.poll() is not None
    service.stop()  # stopping twice is fine
    service.kill()


def test_a_service_that_cannot_start_says_why(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: redis-server cannot have it
        port = taken.getsockname()[1]
        with pytest.raises(ServiceError, match="redis-server exited at start-up") as failed:
            start_redis(tmp_path / "redis", port=port)
    assert str(tmp_path / "redis" / "redis.log") in str(failed.value)
