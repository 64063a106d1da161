"""A load-generator worker on the official socket.io-client 4 (bench/node/loadgen.js), with the
same interface as bench/loadgen.py's Python workers (`send`, `recv`, `pid`, `join`), so the
coordinator's phases and merging (bench/run.py `FanoutRun`) serve both."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
from array import array
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from bench.loadgen import ConnectReport, PhaseResult, PhaseSpec

NODE_DIR = Path(__file__).resolve().parent / "node"
LOADGEN = NODE_DIR / "loadgen.js"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: the Node.js load generator needs Node.js 18+")
    if not (NODE_DIR / "node_modules" / "socket.io-client").exists():
        raise RuntimeError("bench/node/node_modules missing: run `npm ci` in bench/node")
    return node


def _ints(data: str, code: str) -> bytes:
    """Node's base64 Int32/Uint32 array as the Python workers' `array(code)` bytes."""
    raw = array("i" if code == "q" else "I")
    raw.frombytes(base64.b64decode(data))
    return array(code, raw).tobytes()


def phase_result(obj: dict[str, Any]) -> PhaseResult:
    return PhaseResult(
        planned=obj["planned"],
        sent=obj["sent"],
        acked_ok=obj["acked_ok"],
        ack_errors=Counter(obj["ack_errors"]),
        unacked=obj["unacked"],
        ack_latency_us=_ints(obj["ack_latency_us"], "q"),
        delivery_latency_us=_ints(obj["delivery_latency_us"], "q"),
        unique_by_k=_ints(obj["unique_by_k"], "I"),
        duplicates=obj["duplicates"],
        out_of_order=obj["out_of_order"],
        stale=obj["stale"],
        send_lag_us=_ints(obj["send_lag_us"], "q"),
        first_send_ns=int(obj["first_send_ns"]),
        last_send_ns=int(obj["last_send_ns"]),
        last_delivery_ns=int(obj["last_delivery_ns"]),
        disconnected=obj["disconnected"],
        other_events=Counter(obj["other_events"]),
    )


def connect_report(obj: dict[str, Any]) -> ConnectReport:
    return ConnectReport(
        connected=obj["connected"],
        failed=obj["failed"],
        errors=Counter(obj["errors"]),
        seconds=obj["seconds"],
        connect_latency_us=_ints(obj["connect_latency_us"], "q"),
        joined=obj["joined"],
        join_seconds=obj["join_seconds"],
        join_errors=Counter(obj["join_errors"]),
    )


class NodeWorker:
    """One `node loadgen.js` process holding a share of the clients."""

    def __init__(self, spec: dict[str, Any], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [node_binary(), str(LOADGEN)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=NODE_DIR,
        )
        self._write(spec)

    def _write(self, obj: dict[str, Any]) -> None:
        stdin: IO[bytes] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(obj).encode() + b"\n")
        stdin.flush()

    async def recv(self, limit_s: float) -> tuple[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), limit_s)
        except TimeoutError:
            raise TimeoutError(f"node load generator silent for {limit_s:.0f} s") from None
        if not line:
            raise RuntimeError(f"node load generator exited (code {self.process.poll()})")
        obj = json.loads(line)
        kind = obj.pop("kind")
        if kind == "error":
            raise RuntimeError(f"node load generator failed: {obj['error']}")
        if kind == "ready":
            return kind, {"report": connect_report(obj["report"]), "members": obj["members"]}
        if kind == "result":
            return kind, phase_result(obj)
        return kind, obj

    def send(self, command: str, arg: Any = None) -> None:
        if command == "phase":
            assert isinstance(arg, PhaseSpec)
            fields = asdict(arg)
            self._write(
                {
                    "cmd": "phase",
                    "tag": fields["tag"],
                    "phase": fields["phase"],
                    "rate": fields["rate"],
                    "duration": fields["duration"],
                    "startNs": str(fields["start_ns"]),
                    "textSize": fields["text_size"],
                    "quietS": fields["quiet_s"],
                    "drainMaxS": fields["drain_max_s"],
                    "ackTimeoutS": fields["ack_timeout_s"],
                }
            )
        else:
            self._write({"cmd": command})

    def pid(self) -> int:
        return self.process.pid

    def join(self, timeout: float = 30) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        self._log.close()
