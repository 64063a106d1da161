"""What the HTTP routes and the chat namespace work with: the connections and the stores built
on them. parley.container builds them."""

from __future__ import annotations

from dataclasses import dataclass

from parley.accounts import Accounts
from parley.config import Settings
from parley.metrics import Metrics
from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.members import MemberStore
from parley.storage.messages import MessageStore
from parley.storage.presence import PresenceStore
from parley.storage.redis_keys import RedisClient
from parley.storage.rooms import RoomStore
from parley.storage.sends import DeliveryMarks, SendLedger
from parley.storage.sessions import SessionStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: RedisClient
    dynamo: DynamoClient
    accounts: Accounts
    sessions: SessionStore
    rooms: RoomStore
    members: MemberStore
    messages: MessageStore
    presence: PresenceStore
    ledger: SendLedger
    deliveries: DeliveryMarks
    metrics: Metrics

    @property
    def tables(self) -> TableNames:
        return TableNames.with_prefix(self.settings.table_prefix)
