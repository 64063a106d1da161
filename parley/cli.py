"""The `parley` command (docs/reference.md, "Commands"). Options override the environment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from parley.config import ConfigError, Settings, load_settings
from parley.logs import HEADLINE, configure_logging

if TYPE_CHECKING:
    from parley.storage.migrate import Migration

log = logging.getLogger("parley")


class CommandError(Exception):
    """Ends the command with this one line on stderr."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley real-time chat")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="the whole local stack in the foreground")
    dev.add_argument("--port", type=int, help="port of the app (default PARLEY_PORT or 8000)")
    dev.add_argument("--data-dir", type=Path, default=Path(".parley"), help="default ./.parley")

    serve = commands.add_parser("serve", help="the app alone, against configured Redis/DynamoDB")
    serve.add_argument("--host", help="default PARLEY_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default PARLEY_PORT or 8000")

    tables = commands.add_parser("tables", help="manage the DynamoDB tables")
    tables_commands = tables.add_subparsers(dest="tables_command", required=True)
    tables_commands.add_parser("create", help="create any missing table (idempotent)")

    commands.add_parser(
        "migrate",
        help="move an existing deployment to the current tables (idempotent; see the README)",
    )

    ingest = commands.add_parser(
        "ingest", help="write one message straight into the messages table, bypassing the app"
    )
    ingest.add_argument("--room", required=True)
    ingest.add_argument("--user", required=True)
    ingest.add_argument("text")
    return parser


def _options(args: argparse.Namespace, *names: str) -> dict[str, object]:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(**_options(args, "host", "port"))
        configure_logging(settings.log_format, dev=args.command == "dev")
        if args.command == "dev":
            return _dev(args, settings)
        if args.command == "serve":
            return _serve(settings)
        if args.command == "tables":
            return _tables_create(settings)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "ingest":
            return _ingest(settings, room=args.room, user=args.user, text=args.text)
    except (ConfigError, CommandError) as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 2


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends the command like Ctrl-C: cleanup runs and the exit code is 0. (uvicorn
    shuts down gracefully on it, then re-raises it to the handler found here.)"""

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handler)


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise CommandError(
                f"port {port} on {host} is already in use: "
                "choose another with --port or PARLEY_PORT"
            ) from None


def _serve(settings: Settings) -> int:
    from parley.app import create_app
    from parley.realtime.server import MAX_PACKET_BYTES

    settings.require_redis_url()
    _require_free_port(settings.host, settings.port)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # uvicorn's loggers go through configure_logging's handler
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # permessage-deflate keeps a compression context per socket (~42 KiB each, measured
        # with browser-like clients: bench/README.md) and compresses every broadcast once per
        # recipient; chat frames are small, so it costs far more than it saves.
        ws_per_message_deflate=False,
        # Refuse a WebSocket frame bigger than the largest legal packet from its header.
        ws_max_size=MAX_PACKET_BYTES,
    )
    _exit_cleanly_on_sigterm()
    uvicorn.Server(config).run()
    return 0


def _tables_create(settings: Settings) -> int:
    created = asyncio.run(_create_tables(settings))
    print(f"created: {', '.join(created)}" if created else "all tables exist")
    return 0


async def _create_tables(settings: Settings) -> list[str]:
    """Missing tables, and the data in the current shape (`parley migrate`) unless a finished
    migration is recorded: one GetItem then, not a read of every user at each start."""
    return (await _migrated(settings, unless_done=True)).tables_created


async def _migrated(settings: Settings, *, unless_done: bool = False) -> Migration:
    from parley.storage.dynamo import TableNames, open_client
    from parley.storage.migrate import migrate

    async with open_client(settings) as client:
        names = TableNames.with_prefix(settings.table_prefix)
        return await migrate(client, names, unless_done=unless_done)


def _migrate(settings: Settings) -> int:
    print(asyncio.run(_migrated(settings)).summary())
    return 0


def _ingest(settings: Settings, *, room: str, user: str, text: str) -> int:
    from parley.ingest.producer import put_message

    message = put_message(settings, room=room, username=user, text=text)
    print(f"stored {message['id']} in {settings.table_prefix}messages (room {room})")
    return 0


def _dev(args: argparse.Namespace, base: Settings) -> int:
    from parley.devstack import services as local

    _require_free_port(base.host, base.port)
    log.info("Parley is at http://%s:%d", base.host, base.port, extra=HEADLINE)
    data_dir: Path = args.data_dir.resolve()
    _exit_cleanly_on_sigterm()
    with ExitStack() as children:
        overrides: dict[str, object] = _options(args, "port")
        try:
            if base.redis_url is None:
                redis = local.start_redis(data_dir / "redis")
                children.callback(redis.stop)
                overrides["redis_url"] = local.redis_url(redis)
            if base.dynamodb_endpoint is None:
                dynamodb = local.start_dynamodb(data_dir / "dynamodb")
                children.callback(dynamodb.stop)
                overrides["dynamodb_endpoint"] = local.http_url(dynamodb)
        except local.ServiceError as exc:
            raise CommandError(str(exc)) from None
        if "PARLEY_COOKIE_SECURE" not in os.environ:
            overrides["cookie_secure"] = False  # plain http://127.0.0.1 in development
        settings = load_settings(**overrides)
        asyncio.run(_create_tables(settings))
        log.info(
            "data in %s; Redis: %s; DynamoDB: %s",
            data_dir,
            settings.redis_url,
            settings.dynamodb_endpoint,
        )
        return _serve(settings)


if __name__ == "__main__":
    sys.exit(main())
