"""Structured logs: one JSON object per line, with the request id being handled."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from parley.logs import (
    JsonFormatter,
    LogFormat,
    TextFormatter,
    chosen_format,
    configure_logging,
    request_id,
)


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("parley.test", logging.WARNING, __file__, 1, message, args, None)


def test_a_record_is_one_json_line() -> None:
    line = JsonFormatter().format(record("hello %s", "ada"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["logger"] == "parley.test"
    assert entry["message"] == "hello ada"
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in entry


def test_the_request_id_is_carried() -> None:
    token = request_id.set("req-1")
    try:
        entry = json.loads(JsonFormatter().format(record("hi")))
    finally:
        request_id.reset(token)
    assert entry["request_id"] == "req-1"


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in entry["exception"]


def test_configure_logging_writes_json_to_stderr(root_logger: logging.Logger) -> None:
    configure_logging()
    assert len(root_logger.handlers) == 1
    assert isinstance(root_logger.handlers[0].formatter, JsonFormatter)
    assert root_logger.level == logging.INFO
    assert logging.getLogger("parley.socketio").level == logging.WARNING


def test_text_lines_for_a_person_at_a_terminal(root_logger: logging.Logger) -> None:
    configure_logging("text")
    formatter = root_logger.handlers[0].formatter
    assert isinstance(formatter, TextFormatter)
    line = formatter.format(record("hello %s", "ada"))
    assert line.endswith(" WARNING parley.test: hello ada")
    headline = record("Parley is at http://127.0.0.1:8000")
    headline.headline = True
    assert formatter.format(headline) == "Parley is at http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("setting", "dev", "terminal", "chosen"),
    [
        ("auto", True, True, "text"),
        ("auto", True, False, "json"),
        ("auto", False, True, "json"),
        ("json", True, True, "json"),
        ("text", False, False, "text"),
    ],
)
def test_auto_means_text_only_for_parley_dev_on_a_terminal(
    setting: LogFormat, dev: bool, terminal: bool, chosen: str
) -> None:
    assert chosen_format(setting, dev=dev, terminal=terminal) == chosen
