"""Rooms table. Rooms are never deleted, so a room seen once is cached for the process's life."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from parley.ids import iso_utc
from parley.models import Room
from parley.storage.dynamo import DynamoClient, is_conditional_failure, unavailable_on_failure

GENERAL = Room(id="general", name="general")
_NON_ID_RUN = re.compile(r"[^a-z0-9]+")


def room_id_for(name: str) -> str:
    """ "Random Talk!" -> "random-talk" (docs/reference.md, POST /api/rooms)."""
    return _NON_ID_RUN.sub("-", name.lower()).strip("-")


class RoomExists(Exception):
    pass


class RoomStore:
    def __init__(self, client: DynamoClient, table: str) -> None:
        self._client = client
        self._table = table
        self._known: set[str] = set()

    async def create(self, *, name: str, created_by: str) -> Room:
        room = Room(id=room_id_for(name), name=name)
        with unavailable_on_failure():
            try:
                await self._put(room, created_by=created_by)
            except ClientError as exc:
                if is_conditional_failure(exc):
                    raise RoomExists(room.id) from None
                raise
        self._known.add(room.id)
        return room

    async def ensure_general(self) -> None:
        with unavailable_on_failure():
            try:
                await self._put(GENERAL, created_by="parley")
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
        self._known.add(GENERAL.id)

    async def _put(self, room: Room, *, created_by: str) -> None:
        await self._client.put_item(
            TableName=self._table,
            Item={
                "id": {"S": room.id},
                "name": {"S": room.name},
                "createdBy": {"S": created_by},
                "createdAt": {"S": iso_utc(datetime.now(UTC))},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    async def exists(self, room_id: str) -> bool:
        if room_id in self._known:
            return True
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key={"id": {"S": room_id}}, ProjectionExpression="id"
            )
        if "Item" not in response:
            return False
        self._known.add(room_id)
        return True

    async def list(self) -> list[Room]:
        rooms: list[Room] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("scan").paginate(TableName=self._table):
                rooms.extend(
                    Room(id=item["id"]["S"], name=item.get("name", item["id"])["S"])
                    for item in page.get("Items", [])
                )
        self._known.update(room.id for room in rooms)
        return sorted(rooms, key=lambda room: (room.id != GENERAL.id, room.id))
