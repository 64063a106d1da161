"""The local DynamoDB endpoint of `parley dev` keeps its data across restarts and crashes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from parley.devstack.dynamodb_server import JOURNAL_NAME, Journal

REPO_ROOT = Path(__file__).resolve().parents[2]
JOURNAL = JOURNAL_NAME
TABLE = "messages"
READY = "serving on"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=15)


StartServer = Callable[..., Server]


def launch(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "parley.devstack.dynamodb_server"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as stderr:
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr)


def wait_until_ready(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while READY not in server.output():
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}: {server.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"server not ready after {timeout}s: {server.output()}")
        time.sleep(0.05)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    started: list[Server] = []

    def start(data_dir: Path, port: int | None = None, wait: bool = True) -> Server:
        port = port or free_port()
        log = tmp_path / f"server-{len(started)}.log"
        server = Server(launch(data_dir, port, log), port, log)
        started.append(server)
        if wait:
            wait_until_ready(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=15)


@pytest.fixture
def clients() -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def client(server: Server, service: str, region: str = "eu-west-1", key: str = "a") -> Any:
        made.append(
            boto3.client(
                service,
                endpoint_url=server.url,
                region_name=region,
                aws_access_key_id=key,
                aws_secret_access_key="dummy",
            )
        )
        return made[-1]

    yield client
    for made_client in made:
        made_client.close()


def item(room: str, msg_id: str, **attributes: str) -> dict[str, Any]:
    fields = {"room": room, "id": msg_id, **attributes}
    return {name: {"S": value} for name, value in fields.items()}


def create_table(db: Any) -> None:
    db.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "room", "KeyType": "HASH"},
            {"AttributeName": "id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "room", "AttributeType": "S"},
            {"AttributeName": "id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def write_history(db: Any) -> None:
    """Every kind of write the app does, plus reads and a failed write that must leave no trace."""
    create_table(db)
    db.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    db.put_item(TableName=TABLE, Item=item("lobby", "001", text="hello"))
    db.put_item(TableName=TABLE, Item=item("lobby", "002", text="typo"))
    db.put_item(TableName=TABLE, Item=item("lobby", "003", text="to be deleted"))
    db.update_item(
        TableName=TABLE,
        Key=item("lobby", "002"),
        UpdateExpression="SET #t = :t ADD edits :one",
        ExpressionAttributeNames={"#t": "text"},
        ExpressionAttributeValues={":t": {"S": "fixed"}, ":one": {"N": "1"}},
    )
    db.delete_item(TableName=TABLE, Key=item("lobby", "003"))
    with pytest.raises(ClientError) as failed:
        db.put_item(
            TableName=TABLE,
            Item=item("lobby", "001", text="overwritten"),
            ConditionExpression="attribute_not_exists(room)",
        )
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    db.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": item("dev", "010", text="batch a")}},
                {"PutRequest": {"Item": item("dev", "011", text="batch b")}},
                {"DeleteRequest": {"Key": item("lobby", "001")}},
            ]
        }
    )
    db.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": item("dev", "012")}}]
    )
    with pytest.raises(ClientError) as cancelled:
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("dev", "013")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": item("nowhere", "000"),
                        "ConditionExpression": "attribute_exists(room)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    db.get_item(TableName=TABLE, Key=item("dev", "010"))
    db.scan(TableName=TABLE)
    db.query(
        TableName=TABLE,
        KeyConditionExpression="room = :r",
        ExpressionAttributeValues={":r": {"S": "dev"}},
    )


EXPECTED_ITEMS = [
    item("dev", "010", text="batch a"),
    item("dev", "011", text="batch b"),
    item("dev", "012"),
    {**item("lobby", "002", text="fixed"), "edits": {"N": "1"}},
]
EXPECTED_JOURNAL = [
    "CreateTable",
    "UpdateTimeToLive",
    "PutItem",
    "PutItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
]


def all_items(db: Any) -> list[dict[str, Any]]:
    items = db.scan(TableName=TABLE)["Items"]
    return sorted(items, key=lambda found: (found["room"]["S"], found["id"]["S"]))


def stream_iterator(streams: Any, stream_arn: str, kind: str, **position: str) -> str:
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    return str(
        streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType=kind, **position
        )["ShardIterator"]
    )


def stream_records(
    streams: Any, stream_arn: str, kind: str = "TRIM_HORIZON", **position: str
) -> list[dict[str, Any]]:
    iterator = stream_iterator(streams, stream_arn, kind, **position)
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def journal_actions(data_dir: Path) -> list[str]:
    lines = (data_dir / JOURNAL).read_text().splitlines()
    return [json.loads(line)["target"].partition(".")[2] for line in lines]


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["term", "int", "kill"]
)
def test_data_survives_a_restart(
    tmp_path: Path, start_server: StartServer, clients: Any, stop_signal: int
) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    assert f"{first.url} (journal: {data_dir / JOURNAL}, replayed 0 writes)" in first.output()
    db, streams = clients(first, "dynamodb"), clients(first, "dynamodbstreams")
    write_history(db)
    table_before = db.describe_table(TableName=TABLE)["Table"]
    records_before = stream_records(streams, table_before["LatestStreamArn"])
    old_iterator = stream_iterator(streams, table_before["LatestStreamArn"], "LATEST")
    assert journal_actions(data_dir) == EXPECTED_JOURNAL

    assert first.stop(stop_signal) == (-signal.SIGKILL if stop_signal == signal.SIGKILL else 0)

    # Another region and key: the endpoint serves one fixed account and region to everybody.
    second = start_server(data_dir, port=first.port)
    assert f"replayed {len(EXPECTED_JOURNAL)} writes" in second.output()
    db = clients(second, "dynamodb", region="ap-southeast-2", key="AKIAIOSFODNN7EXAMPLE")
    streams = clients(second, "dynamodbstreams", region="ap-southeast-2")
    assert all_items(db) == EXPECTED_ITEMS
    table = db.describe_table(TableName=TABLE)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["LatestStreamArn"] == table_before["LatestStreamArn"]
    assert table["CreationDateTime"] == table_before["CreationDateTime"]
    ttl = db.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires"

    with pytest.raises(ClientError) as stale:
        streams.get_records(ShardIterator=old_iterator)
    assert stale.value.response["Error"]["Code"] == "ExpiredIteratorException"

    db.put_item(TableName=TABLE, Item=item("lobby", "004", text="after restart"))
    assert all_items(db)[-1] == item("lobby", "004", text="after restart")
    last_seen = records_before[-1]["dynamodb"]["SequenceNumber"]
    new_records = stream_records(
        streams,
        table["LatestStreamArn"],
        "AFTER_SEQUENCE_NUMBER",
        SequenceNumber=last_seen,
    )
    assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in new_records] == [
        ("INSERT", item("lobby", "004", text="after restart"))
    ]
    replayed = stream_records(streams, table["LatestStreamArn"])[: len(records_before)]
    assert [r["dynamodb"] for r in replayed] == [r["dynamodb"] for r in records_before]


def test_concurrent_writes_replay_in_the_order_they_were_applied(
    tmp_path: Path, start_server: StartServer, clients: Any
) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    setup = clients(first, "dynamodb")
    create_table(setup)
    setup.put_item(TableName=TABLE, Item={**item("log", "1"), "seen": {"L": []}})

    def append_markers(writer: int) -> None:
        db = clients(first, "dynamodb")
        for n in range(15):
            db.update_item(
                TableName=TABLE,
                Key=item("log", "1"),
                UpdateExpression="SET seen = list_append(seen, :m)",
                ExpressionAttributeValues={":m": {"L": [{"S": f"{writer}.{n}"}]}},
            )

    writers = [threading.Thread(target=append_markers, args=(w,)) for w in range(6)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    before = setup.get_item(TableName=TABLE, Key=item("log", "1"))["Item"]["seen"]["L"]
    assert len(before) == 90
    first.stop(signal.SIGKILL)

    second = start_server(data_dir)
    db = clients(second, "dynamodb")
    assert db.get_item(TableName=TABLE, Key=item("log", "1"))["Item"]["seen"]["L"] == before


def test_a_torn_last_line_is_dropped_with_a_warning(
    tmp_path: Path, start_server: StartServer, clients: Any
) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    db = clients(first, "dynamodb")
    create_table(db)
    db.put_item(TableName=TABLE, Item=item("lobby", "001", text="kept"))
    first.stop(signal.SIGKILL)
    with (data_dir / JOURNAL).open("ab") as journal:
        journal.write(b'{"ts":"2024-01-01T00:00:00","target":"DynamoDB_20120810.PutIt')

    second = start_server(data_dir)
    assert "truncated last journal line" in second.output()
    assert "replayed 2 writes" in second.output()
    db = clients(second, "dynamodb")
    db.put_item(TableName=TABLE, Item=item("lobby", "002", text="after the tear"))
    second.stop(signal.SIGKILL)

    third = start_server(data_dir)
    assert "replayed 3 writes" in third.output()
    assert [found["id"]["S"] for found in all_items(clients(third, "dynamodb"))] == ["001", "002"]


def test_port_in_use_is_one_line_and_exit_code_1(tmp_path: Path, start_server: StartServer) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start_server(tmp_path / "data", port=port, wait=False)
        assert server.process.wait(timeout=30) == 1
    lines = server.output().splitlines()
    assert len(lines) == 1, lines
    assert f"port {port}" in lines[0]
    assert "in use" in lines[0]


def test_a_second_server_on_the_same_data_dir_is_refused(
    tmp_path: Path, start_server: StartServer
) -> None:
    start_server(tmp_path / "data")
    second = start_server(tmp_path / "data", wait=False)
    assert second.process.wait(timeout=30) == 1
    assert "in use by another dynamodb server" in second.output()
    assert "Traceback" not in second.output()


def test_an_unreadable_middle_line_keeps_the_sound_prefix(tmp_path: Path) -> None:
    good = b'{"ts":"2024-01-01T00:00:00","target":"DynamoDB_20120810.PutItem","body":{}}\n'
    path = tmp_path / JOURNAL
    path.write_bytes(good + good + b"\x00\x00garbage\n" + good)
    journal, entries = Journal.open(path)
    journal.close()
    assert len(entries) == 2
    assert path.read_bytes() == good + good
    assert (tmp_path / f"{JOURNAL}.corrupt").read_bytes() == b"\x00\x00garbage\n" + good


# ---------------------------------------------------------------- no web page can reach it


def raw_request(server: Server, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 exchange, with exactly the Host header a DNS-rebinding page would send."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[0]


def list_tables_request(host: str, *, origin: str | None = None, close: bool = True) -> bytes:
    body = b"{}"
    lines = [
        "POST / HTTP/1.1",
        f"Host: {host}",
        "X-Amz-Target: DynamoDB_20120810.ListTables",
        "Content-Type: application/x-amz-json-1.0",
        f"Content-Length: {len(body)}",
    ]
    if close:
        lines.append("Connection: close")
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_a_connection_is_kept_alive_across_requests(
    tmp_path: Path, start_server: StartServer
) -> None:
    """As DynamoDB does: a client does not pay a TCP connect (and the server a thread) for
    every request."""
    server = start_server(tmp_path / "data")
    request = list_tables_request(f"127.0.0.1:{server.port}", close=False)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(request)
            status_line = reader.readline()
            headers = {}
            while (line := reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = reader.read(int(headers["content-length"]))
            assert status_line.split()[1] == b"200"
            assert headers.get("connection", "").lower() != "close"
            assert b"TableNames" in body


def test_a_rebound_host_name_is_refused_and_no_response_allows_cors(
    tmp_path: Path, start_server: StartServer
) -> None:
    server = start_server(tmp_path / "data")
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "127.0.0.1"):
        status, head = raw_request(server, list_tables_request(host, origin="http://evil.test"))
        assert status == 200, host
        assert b"access-control-" not in head.lower()
    for host in (f"evil.test:{server.port}", "evil.test", f"127.0.0.1.evil.test:{server.port}"):
        status, head = raw_request(server, list_tables_request(host, origin="http://evil.test"))
        assert status == 403, host
        assert b"access-control-" not in head.lower()
    # A CORS preflight from a page gets no permission either.
    preflight = (
        f"OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nOrigin: http://evil.test\r\n"
        "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    ).encode()
    _, head = raw_request(server, preflight)
    assert b"access-control-allow-origin" not in head.lower()


@pytest.mark.parametrize("path", ["/moto-api/reset", "/moto-api/", "/moto-api/recorder/"])
def test_motos_control_routes_are_off(
    tmp_path: Path, start_server: StartServer, clients: Callable[..., Any], path: str
) -> None:
    server = start_server(tmp_path / "data")
    db = clients(server, "dynamodb")
    create_table(db)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    status, _ = raw_request(server, request)
    assert status == 404
    assert db.list_tables()["TableNames"] == [TABLE]
