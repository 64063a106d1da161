"""Security events as structured log lines (OWASP Logging Cheat Sheet; ASVS 7.1, 7.2): logins
that succeed, fail or are throttled, registrations and logouts, on the `parley.security`
logger. In JSON each line carries `event` and its fields as keys, for a log query or an alarm
to match; never a password, cookie or session key (ASVS 7.1.1), which no caller passes."""

from __future__ import annotations

import json
import logging

log = logging.getLogger("parley.security")

# The attribute of a LogRecord that parley.logs.JsonFormatter spreads into the JSON object.
FIELDS = "parley_fields"


def security_event(event: str, *, level: int = logging.INFO, **fields: str | int) -> None:
    # Values are quoted as JSON in the message, so a hostile value cannot forge a line.
    details = " ".join(f"{name}={json.dumps(value)}" for name, value in fields.items())
    log.log(level, "%s %s", event, details, extra={FIELDS: {"event": event, **fields}})
