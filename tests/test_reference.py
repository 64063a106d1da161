"""docs/reference.md against the code, both ways: its HTTP routes (with their statuses) against
the app's OpenAPI document, its Socket.IO events against the namespace's handlers and the events
the server emits, its settings against `parley.config.Settings`. Something undocumented fails,
and so does something documented that the code does not have."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from parley.app import create_api
from parley.config import Settings
from parley.realtime.namespace import ChatNamespace
from parley.realtime.protocol import CLIENT_EVENTS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"

Row = list[str]


def section(title: str) -> str:
    """The text under `## <title>`, up to the next second-level heading."""
    text = REFERENCE.read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match is not None, f"docs/reference.md has no section '## {title}'"
    return match[1]


def tables(text: str) -> list[tuple[Row, list[Row]]]:
    """Every Markdown table in the text, as (header, rows)."""
    found: list[tuple[Row, list[Row]]] = []
    lines: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            lines.append(line)
            continue
        if len(lines) >= 2:
            header, _separator, *rows = (cells(row) for row in lines)
            found.append((header, rows))
        lines = []
    return found


def cells(line: str) -> Row:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(title: str, first_column: str, *, containing: str = "") -> list[Row]:
    """The rows of the table in that section whose header starts with `first_column`."""
    for header, rows in tables(section(title)):
        if header[0] == first_column and (not containing or containing in header):
            return rows
    raise AssertionError(f"no table headed '{first_column}' under '## {title}'")


def code(cell: str) -> str:
    """The first `code span` of a cell: the name the row documents."""
    match = re.search(r"`([^`]+)`", cell)
    assert match is not None, f"no `name` in cell {cell!r}"
    return match[1]


def statuses(*cell_texts: str) -> set[str]:
    return {status for text in cell_texts for status in re.findall(r"`(\d{3})`", text)}


def assert_same(documented: Iterable[Any], implemented: Iterable[Any], what: str) -> None:
    documented, implemented = set(documented), set(implemented)
    missing = sorted(implemented - documented, key=str)
    extra = sorted(documented - implemented, key=str)
    assert (missing, extra) == ([], []), (
        f"{what}: not in docs/reference.md: {missing}; in docs/reference.md but not in the "
        f"code: {extra}"
    )


# ---------------------------------------------------------------------------- HTTP routes


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_api(Settings()).openapi()
    return document


def documented_routes() -> dict[tuple[str, str], set[str]]:
    return {
        (code(method), code(path)): statuses(success, failures)
        for method, path, _request, success, failures in table("HTTP routes", "method")
    }


def implemented_routes(openapi: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    return {
        (method.upper(), path): set(operation["responses"])
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    }


def test_routes_are_the_openapi_documents(openapi: dict[str, Any]) -> None:
    assert_same(documented_routes(), implemented_routes(openapi), "HTTP routes")


def test_each_routes_statuses_are_the_openapi_documents(openapi: dict[str, Any]) -> None:
    documented = documented_routes()
    for route, answers in implemented_routes(openapi).items():
        if route in documented:
            assert_same(documented[route], answers, f"statuses of {' '.join(route)}")


# ---------------------------------------------------------------------------- Socket.IO


def documented_events(first_column_with: str) -> set[str]:
    return {code(row[0]) for row in table("Socket.IO", "event", containing=first_column_with)}


def test_client_events_are_the_namespaces_handlers() -> None:
    handlers = {
        name.removeprefix("on_") for name in vars(ChatNamespace) if name.startswith("on_")
    } - {"connect", "disconnect"}
    assert_same(documented_events("ack"), handlers, "client events (ChatNamespace.on_<event>)")
    assert_same(documented_events("ack"), CLIENT_EVENTS, "client events (protocol.CLIENT_EVENTS)")


def test_server_events_are_the_ones_emitted() -> None:
    sources = "\n".join(path.read_text() for path in (ROOT / "parley").rglob("*.py"))
    emitted = set(re.findall(r"\bemit\(\s*\"(\w+)\"", sources))
    assert emitted, 'no emit("<event>", ...) found in parley/: the pattern needs updating'
    # Events to a user's or a room's sockets (conversations.Notifier): the event comes second.
    notified = set(re.findall(r"\bto_(?:user|room)\(\s*[^,()]+,\s*\"(\w+)\"", sources))
    assert notified, (
        'no to_user(<whom>, "<event>", ...) found in parley/: the pattern needs updating'
    )
    emitted |= notified
    assert_same(documented_events("to whom"), emitted, "server events (emit calls in parley/)")


# ---------------------------------------------------------------------------- settings


def variable(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def shown(default: object) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_settings_are_the_settings_fields() -> None:
    documented = {
        code(row[0]): row[1] for row in table("Settings", "variable", containing="default")
    }
    fields = {variable(name, field): field for name, field in Settings.model_fields.items()}
    assert_same(documented, fields, "settings (parley.config.Settings)")
    for name, field in fields.items():
        expected = "unset" if field.default is None else f"`{shown(field.default)}`"
        assert expected in documented[name], f"{name}: default should read {expected}"
