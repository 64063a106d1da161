"""The library's own limit on this machine: a bare python-socketio ASGI server under uvicorn
(no auth, no storage, the in-memory client manager) that handles `join` and `message` the way
docs/reference.md says (ack, then broadcast `message` to the room, sender included), with ids
from a counter so the load generator's order check works unchanged.

Run: python -m bench.baseline_server --port N   (uvicorn's defaults, like `parley serve`)
"""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, datetime
from typing import Any

import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[])
app = socketio.ASGIApp(sio)
_ids = itertools.count(1)


def _room_channel(room: str) -> str:
    return f"room:{room}"


@sio.on("connect")  # type: ignore[untyped-decorator]
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    return None


@sio.on("join")  # type: ignore[untyped-decorator]
async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    await sio.enter_room(sid, _room_channel(str(data["room"])))
    return {"ok": True, "messages": []}


@sio.on("message")  # type: ignore[untyped-decorator]
async def message(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    room = str(data["room"])
    stored = {
        "id": f"{next(_ids):026d}",
        "room": room,
        "username": sid,
        "text": str(data["text"]).strip(),
        "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "clientId": data.get("clientId"),
    }
    await sio.emit("message", stored, room=_room_channel(room))
    return {"ok": True, "message": stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Same uvicorn settings as `parley serve` (parley/cli.py): default loop (uvloop), http
    # (httptools) and ws (websockets) implementations, info-level logging.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
