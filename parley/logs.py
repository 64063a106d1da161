"""Logs on stderr, with the request id of the HTTP request or socket event being handled:
one JSON object per line, or for a person at a terminal running `parley dev`, one readable
line (time, level, logger, message). Passwords, cookies and session keys are never logged."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

from parley.security_log import FIELDS

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

LogFormat = Literal["auto", "json", "text"]
# A record logged with extra={"headline": True} is shown as its bare message in text format.
HEADLINE = {"headline": True}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):  # parley.security_log: never overrides the keys above
            entry |= {key: value for key, value in fields.items() if key not in entry}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "headline", False):
            return record.getMessage()
        line = super().format(record)
        current = request_id.get()
        return f"{line} (request {current})" if current is not None else line


def chosen_format(setting: LogFormat, *, dev: bool, terminal: bool) -> Literal["json", "text"]:
    """The setting, where "auto" means text for `parley dev` on a terminal, JSON elsewhere."""
    if setting != "auto":
        return setting
    return "text" if dev and terminal else "json"


def configure_logging(log_format: LogFormat = "json", *, dev: bool = False) -> None:
    terminal = sys.stderr.isatty()
    text = chosen_format(log_format, dev=dev, terminal=terminal) == "text"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # python-socketio and engineio log every packet at INFO; their warnings still come through.
    for chatty in ("parley.socketio", "parley.engineio", "botocore", "aiobotocore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
