"""Security events: one line each, their fields as keys of the JSON object, values quoted in
the message so a hostile value cannot forge a line."""

from __future__ import annotations

import json
import logging

import pytest

from parley.logs import JsonFormatter
from parley.security_log import security_event


def test_an_event_is_a_json_line_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="parley.security")
    security_event("login_failed", username="ada", address="192.0.2.1\nforged line")
    (record,) = caplog.records
    entry = json.loads(JsonFormatter().format(record))
    assert entry["logger"] == "parley.security"
    assert entry["event"] == "login_failed"
    assert entry["username"] == "ada"
    assert entry["address"] == "192.0.2.1\nforged line"
    assert entry["message"] == 'login_failed username="ada" address="192.0.2.1\\nforged line"'


def test_a_field_never_replaces_the_lines_own_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="parley.security")
    security_event("odd", level=logging.WARNING, message="not the message", time="never")
    entry = json.loads(JsonFormatter().format(caplog.records[0]))
    assert entry["level"] == "warning"
    assert entry["message"] == 'odd message="not the message" time="never"'
    assert entry["time"] != "never"
