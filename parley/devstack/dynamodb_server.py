"""A local DynamoDB endpoint for `parley dev`: moto's server app, made durable by a journal.

Run it as ``python -m parley.devstack.dynamodb_server --host H --port N --data-dir DIR``.

Why a write journal and not moto's built-in recorder (``moto/moto_api/_internal/recorder``):

* The recorder logs *every* request (reads, failed conditional writes, other services) and
  logs it *before* it is applied, so its file grows with traffic rather than with data.
* It only ``write()``s: nothing is fsync'd, so an acknowledged write can be lost.
* It takes no lock, so under a threaded server the file order can differ from the order the
  writes hit the backend, and a replay then rebuilds a different state.
* It replays by sending HTTP requests (``requests``) to a server that is already listening,
  so clients can read and write a half-restored database; anyone can also stop, reset or
  overwrite it over ``/moto-api/recorder/``.

So this module wraps moto's WSGI app instead. One JSON line per *successful mutating*
DynamoDB request (target, body, time) is appended and fsync'd under the lock that applied the
write, before the client gets its answer: the file order is the apply order, and an
acknowledged write survives SIGKILL. On start the lines are fed through the same WSGI app
in-process before the socket listens; a torn last line (crash mid-append) is cut off.

It is served over HTTP/1.1 with keep-alive (uvicorn, moto's WSGI app through a2wsgi), as
DynamoDB serves its clients: werkzeug's development server, which moto's own server uses,
closes every connection after one answer, so each request paid a new TCP connection and a
thread, and the client a connect (about 1 ms of CPU per PutItem in Parley's process,
README.md, Benchmarks, "Latest run").

Every DynamoDB and Streams request is served for one fixed account and region, whatever the
client signs with, so all clients (and the replay) see the same tables. Replay pins moto's
clock to each write's original time, so a table comes back with the same stream ARN and its
stream with the same records (sequence numbers and times; only eventIDs are new): a reader
resuming AFTER_SEQUENCE_NUMBER continues seamlessly, a TRIM_HORIZON reader sees the history
again, and an iterator from before the restart gets ExpiredIteratorException.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import io
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

import moto.dynamodb.models.table as moto_table
import moto.moto_server.werkzeug_app as moto_werkzeug_app
import uvicorn
from a2wsgi import WSGIMiddleware
from moto.core.utils import utcnow as moto_utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wsgi import get_input_stream

JOURNAL_NAME = "dynamodb-journal.jsonl"
# Longer than any client keeps an idle connection (aiohttp 15 s, botocore's pool, Node's
# agent), so a client never sends on a connection the server has just closed.
KEEP_ALIVE_SECONDS = 75
BACKLOG = 128
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# moto takes the region from the SigV4 credential scope and the account from MOTO_ACCOUNT_ID;
# moto never checks signatures, so a fixed header pins both for every client and for replay.
CANONICAL_AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential=AKIAPARLEYDEV0000000/20240101/{REGION}/dynamodb/aws4_request,"
    " SignedHeaders=content-type;host;x-amz-target, Signature=0"
)
DYNAMODB_PREFIX = "DynamoDB_"
STREAMS_PREFIX = "DynamoDBStreams_"
CONTENT_TYPE = "application/x-amz-json-1.0"
READ_ACTIONS = frozenset({"Query", "Scan", "BatchGetItem", "TransactGetItems"})
READ_PREFIXES = ("Describe", "List", "Get")
PARTIQL_ACTIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
# moto's own control routes (reset, recorder, state manager, dashboard): none of them for clients.
MOTO_API_PREFIX = "/moto-api"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

log = logging.getLogger("parley.devstack.dynamodb")

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status.startswith("2")


@dataclass(frozen=True)
class Entry:
    """One journaled write: when moto applied it, its X-Amz-Target and its JSON body."""

    at: datetime
    target: str
    body: Any

    def to_line(self) -> bytes:
        record = {"ts": self.at.isoformat(), "target": self.target, "body": self.body}
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        record = json.loads(line)
        return cls(datetime.fromisoformat(record["ts"]), record["target"], record["body"])

    def body_bytes(self) -> bytes:
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


class JournalLocked(Exception):
    """Another server already owns this data directory."""


class Journal:
    """An append-only, fsync'd JSON-lines file owned by one process (flock)."""

    def __init__(self, path: Path, file: BinaryIO) -> None:
        self.path = path
        self._file = file

    @classmethod
    def open(cls, path: Path) -> tuple[Journal, list[Entry]]:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        file = path.open("a+b")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise JournalLocked(str(path)) from None
        if not existed:
            _fsync_dir(path.parent)
        journal = cls(path, file)
        return journal, journal._recover()

    def _recover(self) -> list[Entry]:
        self._file.seek(0)
        data = self._file.read()
        entries, valid_end = _parse_prefix(data)
        if valid_end < len(data):
            self._drop_tail(data[valid_end:])
        return entries

    def _drop_tail(self, tail: bytes) -> None:
        # A crash mid-append leaves a torn last line. Cut it off, or the next append would be
        # glued onto it and a good write would be lost at the following replay.
        if b"\n" in tail:
            # Not a torn append: keep the unreadable rest for a human, replay the sound prefix.
            kept = self.path.with_name(self.path.name + ".corrupt")
            with kept.open("ab") as file:
                file.write(tail)
            log.warning("journal has an unreadable line; it and the rest moved to %s", kept)
        else:
            log.warning("ignoring a truncated last journal line (%d bytes)", len(tail))
        self._file.truncate(self._file.tell() - len(tail))
        self._sync()

    def append(self, entry: Entry) -> None:
        self._file.write(entry.to_line())
        self._sync()

    def clear(self) -> None:
        self._file.truncate(0)
        self._sync()

    def close(self) -> None:
        self._file.close()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())


def _parse_prefix(data: bytes) -> tuple[list[Entry], int]:
    """The entries of the longest valid prefix of `data`, and where that prefix ends."""
    entries: list[Entry] = []
    end = 0
    while (newline := data.find(b"\n", end)) != -1:
        try:
            entries.append(Entry.from_line(data[end:newline]))
        except (ValueError, KeyError, TypeError):
            break
        end = newline + 1
    return entries, end


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PinnedClock:
    """Moto stamps stream labels (part of the stream ARN), creation times and stream records
    with ``utcnow()`` while it applies a write. Pinning that clock to the journaled time makes
    a replay rebuild the same stream ARN and record times instead of "now"."""

    def __init__(self) -> None:
        self._pinned: datetime | None = None
        self._real: Callable[[], datetime] = moto_utcnow
        moto_table.utcnow = self.now  # type: ignore[attr-defined]  # imported, not exported

    def now(self) -> datetime:
        return self._pinned if self._pinned is not None else self._real()

    @contextmanager
    def pinned(self, at: datetime) -> Iterator[None]:
        self._pinned = at
        try:
            yield
        finally:
            self._pinned = None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def action_of(target: str) -> str:
    return target.partition(".")[2]


def is_dynamodb(target: str) -> bool:
    return target.startswith((DYNAMODB_PREFIX, STREAMS_PREFIX))


def is_write(target: str, body: bytes) -> bool:
    if not target.startswith(DYNAMODB_PREFIX):
        return False
    action = action_of(target)
    if action in READ_ACTIONS or action.startswith(READ_PREFIXES):
        return False
    if action in PARTIQL_ACTIONS:
        return not _partiql_is_read_only(body)
    # Anything else changes state, including actions moto may add later: fail towards durable.
    return True


def _partiql_is_read_only(body: bytes) -> bool:
    try:
        request = json.loads(body)
        statements = [request] if "Statement" in request else request.get("Statements")
        statements = statements or request.get("TransactStatements") or []
        texts = [str(s["Statement"]) for s in statements]
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return bool(texts) and all(t.lstrip().upper().startswith("SELECT") for t in texts)


def read_body(environ: WSGIEnviron) -> bytes:
    """Buffer the request body so it can be journaled and re-read by moto."""
    body: bytes = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    return body


def call_app(app: WSGIApp, environ: WSGIEnviron) -> Response:
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return Response(status, headers.to_wsgi_list(), b"".join(app_iter))


def parse_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def host_name(host_header: str) -> str:
    """The name of a Host header without its port: "127.0.0.1:8000" -> "127.0.0.1",
    "[::1]:8000" -> "::1"."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def is_loopback_host(host_header: str, also: frozenset[str] = frozenset()) -> bool:
    """Whether a Host header names this machine's loopback (or the address the server was
    explicitly bound to). A DNS-rebinding page sends its own name: attacker.example."""
    name = host_name(host_header)
    if name in LOOPBACK_NAMES or name in also:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refused(status: str, message: str) -> Response:
    body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
    return Response(status, headers, body)


def without_cors(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]


class DurableDynamoApp:
    """WSGI middleware in front of moto: journals DynamoDB writes and serializes DynamoDB.

    It is also the dev database's only door, so no web page can read it: a request whose Host
    is not a loopback name (DNS rebinding) is refused, moto's ``/moto-api/`` routes (reset,
    recorder) are not served, and no response carries CORS headers (moto's server otherwise
    answers every origin with ``Access-Control-Allow-Origin: *``)."""

    def __init__(
        self,
        dispatcher: DomainDispatcherApplication,
        journal: Journal,
        *,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self._allowed_hosts = frozenset(host_name(h) for h in allowed_hosts)
        self._dispatcher = dispatcher
        self._journal = journal
        self._backends: dict[str, WSGIApp] = {}
        self._clock = PinnedClock()
        # moto's backends are not thread-safe (a Scan iterates the dict a PutItem grows), and
        # one lock held across apply+append makes the journal order the apply order.
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = str(environ.get("PATH_INFO", ""))
        if not is_loopback_host(environ.get("HTTP_HOST", ""), self._allowed_hosts):
            response = refused("403 Forbidden", "this endpoint answers loopback host names only")
        elif path == MOTO_API_PREFIX or path.startswith(MOTO_API_PREFIX + "/"):
            response = refused("404 Not Found", "moto's control routes are turned off")
        elif is_dynamodb(target):
            response = self._dynamodb(environ, target)
        else:
            response = call_app(self._dispatcher, environ)
        start_response(response.status, without_cors(response.headers))
        return [response.body]

    def _dynamodb(self, environ: WSGIEnviron, target: str) -> Response:
        environ["HTTP_AUTHORIZATION"] = CANONICAL_AUTHORIZATION
        body = read_body(environ)
        if not is_write(target, body):
            with self._lock:
                return self._read(environ, target)
        with self._lock:
            entry = Entry(utcnow(), target, parse_body(body))
            with self._clock.pinned(entry.at):
                response = self._apply(environ, target)
            if response.ok:
                self._journal.append(entry)
            return response

    def _read(self, environ: WSGIEnviron, target: str) -> Response:
        try:
            return self._apply(environ, target)
        except KeyError:
            if action_of(target) != "GetRecords":
                raise
            # moto forgets shard iterators on restart and answers a stale one with a 500, which
            # botocore retries; AWS says ExpiredIteratorException, which stream readers handle.
            return expired_iterator()

    def _apply(self, environ: WSGIEnviron, target: str) -> Response:
        # moto's dispatcher lists its package directory on every request to pick the backend;
        # with the Authorization header pinned, the X-Amz-Target service alone decides it.
        service = target.partition(".")[0]
        app = self._backends.get(service)
        if app is None:
            app = self._backends[service] = self._dispatcher.get_application(environ)
        return call_app(app, environ)

    def replay(self, entries: Sequence[Entry], stop: threading.Event) -> int:
        """Apply journaled writes in order; returns how many moto accepted again."""
        applied = 0
        for number, entry in enumerate(entries, start=1):
            if stop.is_set():
                break
            failure = self._replay_one(entry)
            if failure is None:
                applied += 1
            else:
                # Only a different moto version should get here; serve what could be restored.
                log.warning("replay of line %d (%s) failed: %s", number, entry.target, failure)
        return applied

    def _replay_one(self, entry: Entry) -> str | None:
        try:
            with self._clock.pinned(entry.at):
                response = self._apply(replay_environ(entry), entry.target)
        except Exception as exc:
            return repr(exc)
        if response.ok:
            return None
        return f"{response.status} {response.body[:200].decode('utf-8', 'replace')}"

    def close(self) -> None:
        """Wait for the write in flight, then keep the lock so no later one half-happens."""
        self._lock.acquire()
        self._journal.close()


def expired_iterator() -> Response:
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",
            "message": "Shard iterator is unknown or has expired (the endpoint restarted?)",
        }
    ).encode()
    headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
    return Response("400 Bad Request", headers, body)


def replay_environ(entry: Entry) -> WSGIEnviron:
    builder = EnvironBuilder(
        method="POST",
        path="/",
        headers=Headers(
            {
                "X-Amz-Target": entry.target,
                "Content-Type": CONTENT_TYPE,
                "Authorization": CANONICAL_AUTHORIZATION,
            }
        ),
        data=entry.body_bytes(),
    )
    try:
        environ: WSGIEnviron = builder.get_environ()
    finally:
        builder.close()
    return environ


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", type=Path, required=True)
    return parser.parse_args(argv)


def configure_process() -> None:
    os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT_ID
    # moto wraps every backend app in flask_cors (Access-Control-Allow-Origin: *) unless this
    # is set; it read MOTO_DISABLE_GLOBAL_CORS at import, so set the flag it copied.
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    moto_werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]  # imported, not exported
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="dynamodb: %(message)s")
    # One line per request would drown the `parley dev` console; errors still get through.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


def install_signal_handlers(stop: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def bind(host: str, port: int) -> socket.socket:
    """Bind without listening: the port is ours, but connections are refused until replay ends."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; stop that program or pick another port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(sock: socket.socket, app: DurableDynamoApp, stop: threading.Event) -> None:
    config = uvicorn.Config(
        WSGIMiddleware(app),  # type: ignore[arg-type]  # a2wsgi's own WSGI types
        lifespan="off",
        access_log=False,
        log_config=None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        backlog=BACKLOG,
    )
    server = uvicorn.Server(config)
    # In a thread, uvicorn leaves the signals to this process's own handlers.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="dynamodb-http", daemon=True
    )
    thread.start()
    # Not stop.wait(): the signal handler sets the event from this same thread, and would
    # deadlock on the lock wait() holds. is_set() takes no lock.
    while not stop.is_set() and thread.is_alive():
        time.sleep(0.1)
    server.should_exit = True
    thread.join()


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        log.error("%s", bind_error(args.host, args.port, exc))
        return 1
    with sock:
        try:
            journal, entries = Journal.open(args.data_dir / JOURNAL_NAME)
        except JournalLocked as exc:
            log.error("%s is in use by another dynamodb server", exc)
            return 1
        # moto calls itself on this port for cross-service callbacks, as its own server does.
        os.environ["MOTO_PORT"] = str(sock.getsockname()[1])
        dispatcher = DomainDispatcherApplication(create_backend_app)
        app = DurableDynamoApp(dispatcher, journal, allowed_hosts=frozenset({args.host}))
        try:
            replayed = app.replay(entries, stop)
            if not stop.is_set():
                sock.listen(BACKLOG)  # before "serving on": clients may connect from then on
                log.info(
                    "serving on %s (journal: %s, replayed %d writes)",
                    url_of(sock),
                    journal.path,
                    replayed,
                )
                serve(sock, app, stop)
        finally:
            app.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_process()
    stop = threading.Event()
    install_signal_handlers(stop)
    return run(args, stop)


if __name__ == "__main__":
    sys.exit(main())
