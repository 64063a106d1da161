"""`parley migrate`: moves a deployment made before conversations to the tables of
docs/design/conversations.md, idempotently (a second run changes nothing; an interrupted run
is finished by the next). Until it has run, a room without `kind` reads as public, so the app
keeps working during the upgrade.

A run that finishes records its version in a marker item of the members table, so the start of
`parley dev` (and `parley tables create`) skips the data migration in one GetItem instead of
reading every user and room each time; `parley migrate` by hand always runs it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from parley.access import Role
from parley.storage.dynamo import (
    DIRECTORY_INDEX,
    DynamoClient,
    TableNames,
    create_missing_tables,
    ensure_directory_index,
)
from parley.storage.members import MemberStore, TooManyRooms
from parley.storage.rooms import GENERAL_ID, RoomStore
from parley.storage.users import UserStore

log = logging.getLogger(__name__)

# DynamoDB backfills a new index of a table in use online; the directory answers once it is
# ACTIVE (minutes for a large table).
INDEX_WAIT_SECONDS = 30 * 60
INDEX_POLL_SECONDS = 5.0

# Raise it when the data migration below learns a new step: every deployment then runs it once
# more at its next start.
MIGRATION_VERSION = 1
# The marker's key in the members table: like the tally items' `#rooms`, a partition that is
# never a room id (ids are `a-z0-9-`), and without `memberOf`, so never in the by-user index.
_MARKER = {"room": {"S": "#migrations"}, "user": {"S": "data"}}


@dataclass
class Migration:
    tables_created: list[str] = field(default_factory=list)
    index_added: bool = False
    rooms_made_public: int = 0
    owners_added: int = 0
    general_members_added: int = 0
    skipped: bool = False  # already recorded as done (`migrate(..., unless_done=True)`)

    def summary(self) -> str:
        tables = ", ".join(self.tables_created) or "none"
        return (
            f"tables created: {tables}; directory index added: {self.index_added}; "
            f"rooms made public: {self.rooms_made_public}; owners added: {self.owners_added}; "
            f"users added to general: {self.general_members_added}"
        )


async def migrate(
    client: DynamoClient, names: TableNames, *, unless_done: bool = False
) -> Migration:
    """Missing tables created, then the data moved; with `unless_done`, the data step only when
    no run of this MIGRATION_VERSION has been recorded (what every start asks)."""
    done = Migration()
    done.tables_created = await create_missing_tables(client, names)
    if unless_done and await _recorded(client, names):
        done.skipped = True
        return done
    done.index_added = await ensure_directory_index(client, names)
    if done.index_added:
        await _wait_for_index(client, names.rooms)
    rooms = RoomStore(client, names.rooms)
    members = MemberStore(client, names.members, rooms_table=names.rooms)
    users = UserStore(client, names.users)
    await rooms.ensure_general()
    for room in await rooms.kindless():
        # The creator becomes its owner first, then the room gets its kind: a run stopped in
        # between finds the room still without kind and makes the same (idempotent) join.
        creator = await users.exists(room.created_by) if room.created_by else None
        if creator is not None and await _join(members, room.id, creator, Role.OWNER):
            done.owners_added += 1
        await rooms.make_public(room)
        done.rooms_made_public += 1
    for name in await users.all_names():
        if await _join(members, GENERAL_ID, name, Role.MEMBER):
            done.general_members_added += 1
    await _record(client, names)
    return done


async def _recorded(client: DynamoClient, names: TableNames) -> bool:
    response = await client.get_item(TableName=names.members, Key=_MARKER, ConsistentRead=True)
    version = response.get("Item", {}).get("version", {}).get("N")
    return version is not None and int(version) >= MIGRATION_VERSION


async def _record(client: DynamoClient, names: TableNames) -> None:
    """Only after every step succeeded: a run stopped midway is finished by the next start."""
    item = {**_MARKER, "version": {"N": str(MIGRATION_VERSION)}}
    await client.put_item(TableName=names.members, Item=item)


async def _join(members: MemberStore, room_id: str, username: str, role: Role) -> bool:
    try:
        return await members.join(room_id, username, role)
    except TooManyRooms:
        log.warning("%s is in too many rooms to join %s", username, room_id)
        return False


async def _wait_for_index(client: DynamoClient, table: str) -> None:
    waited = 0.0
    while waited < INDEX_WAIT_SECONDS:
        described = await client.describe_table(TableName=table)
        statuses = {
            index["IndexName"]: index.get("IndexStatus")
            for index in described["Table"].get("GlobalSecondaryIndexes", [])
        }
        if statuses.get(DIRECTORY_INDEX) == "ACTIVE":
            return
        await asyncio.sleep(INDEX_POLL_SECONDS)
        waited += INDEX_POLL_SECONDS
    raise TimeoutError(f"the index {DIRECTORY_INDEX} of {table} is not ACTIVE yet: run again")
