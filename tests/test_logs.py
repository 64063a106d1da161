"""The log format: JSON lines by default, readable lines for `parley dev` on a terminal, and
PARLEY_LOG_FORMAT to choose; the address of `parley dev` on its own line at the top."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parley.config import ConfigError, load_settings
from parley.devstack.services import free_port
from parley.logs import HEADLINE, JsonFormatter, LogFormat, TextFormatter, chosen_format
from tests.conftest import separate_tables
from tests.test_cli import CLEAN_ENV

READABLE = re.compile(r"^\d\d:\d\d:\d\d (INFO|WARNING|ERROR) +[\w.]+: \S")


@pytest.mark.parametrize(
    ("setting", "dev", "terminal", "expected"),
    [
        ("auto", True, True, "text"),
        ("auto", True, False, "json"),
        ("auto", False, True, "json"),  # parley serve
        ("auto", False, False, "json"),
        ("json", True, True, "json"),
        ("text", False, False, "text"),
    ],
)
def test_the_format_chosen(setting: LogFormat, dev: bool, terminal: bool, expected: str) -> None:
    assert chosen_format(setting, dev=dev, terminal=terminal) == expected


def test_the_setting_defaults_to_auto_and_refuses_other_formats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PARLEY_LOG_FORMAT", raising=False)
    assert load_settings().log_format == "auto"
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "text")
    assert load_settings().log_format == "text"
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "yaml")
    with pytest.raises(ConfigError, match=r"^PARLEY_LOG_FORMAT: Input should be 'auto', 'json'"):
        load_settings()


def record(message: str, *, headline: bool = False) -> logging.LogRecord:
    made = logging.getLogger("parley.test").makeRecord(
        "parley.test", logging.WARNING, __file__, 1, message, (), None
    )
    if headline:
        made.__dict__.update(HEADLINE)
    return made


def test_text_lines_read_as_time_level_logger_message() -> None:
    formatter = TextFormatter()
    assert READABLE.match(formatter.format(record("disk almost full")))
    assert formatter.format(record("disk almost full")).endswith(
        " WARNING parley.test: disk almost full"
    )
    assert formatter.format(record("Parley is at http://x", headline=True)) == (
        "Parley is at http://x"
    )


def test_json_lines_keep_their_fields_for_a_headline_too() -> None:
    entry = json.loads(JsonFormatter().format(record("Parley is at http://x", headline=True)))
    assert entry["message"] == "Parley is at http://x"
    assert entry["level"] == "warning"
    assert entry["logger"] == "parley.test"


def read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the other end closed
                break
    return seen


async def test_dev_on_a_terminal_prints_the_address_first_then_readable_lines(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    # Against the test session's Redis and DynamoDB (dev starts nothing of its own), with
    # tables of its own: dev migrates its tables at start, which on the session's shared
    # tables means every account the other suites registered.
    async with separate_tables(base_env, "dev") as env:
        await asyncio.to_thread(dev_on_a_terminal, {**CLEAN_ENV, **env}, tmp_path)


def dev_on_a_terminal(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "dev", "--port", str(port), "--data-dir", str(tmp_path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    try:
        output = read_until(leader, b"Uvicorn running on", 60)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    lines = output.decode().splitlines()
    assert lines[0] == f"Parley is at http://127.0.0.1:{port}"
    assert len(lines) > 3
    assert [line for line in lines[1:] if not READABLE.match(line)] == []
