"""Socket.IO room names. A chat room and a login session each map to one Socket.IO room."""

from __future__ import annotations


def room_channel(room: str) -> str:
    return f"room:{room}"


def session_channel(session_ref: str) -> str:
    return f"session:{session_ref}"
