"""Multi-document transactions on MongoDB when the server has them, with a way out when not.

A standalone mongod has no transactions; a replica set, a mongos and SecantusDB (which answers
`hello` as a one-member replica set, with snapshot isolation over WiredTiger) do. `run(work)`
hands `work` a session inside a transaction (retried by PyMongo's `with_transaction`, with
backoff, on `TransientTransactionError` such as a write conflict) or, without transactions,
`None`: the caller then makes each write a guarded single-document update and undoes what it
already did when a later step fails (compensation).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from pymongo.server_type import SERVER_TYPE

from quartet.stores.mongo import MongoDatabase
from quartet.stores.mongo_repository import MongoSession

T = TypeVar("T")
TransactionMode = Literal["auto", "on", "off"]

_TRANSACTIONAL = (SERVER_TYPE.RSPrimary, SERVER_TYPE.Mongos, SERVER_TYPE.LoadBalancer)


class MongoTransactions:
    """Per request: `MONGODB_TRANSACTIONS` decides (`auto` asks the topology the driver has
    already discovered, so deciding costs no round trip once connected)."""

    def __init__(self, db: MongoDatabase, mode: TransactionMode) -> None:
        self.client = db.client
        self.mode = mode

    async def supported(self) -> bool:
        if self.mode != "auto":
            return self.mode == "on"
        servers = self.client.topology_description.server_descriptions().values()
        if all(server.server_type == SERVER_TYPE.Unknown for server in servers):
            await self.client.admin.command("ping")  # discovers the server (or raises: 503)
            servers = self.client.topology_description.server_descriptions().values()
        return any(server.server_type in _TRANSACTIONAL for server in servers)

    async def run(self, work: Callable[[MongoSession | None], Coroutine[Any, Any, T]]) -> T:
        """`work(session)` in one transaction, re-run from the start on a transient error; or
        `work(None)` once when the server has no transactions."""
        if not await self.supported():
            return await work(None)
        async with self.client.start_session() as session:
            return await session.with_transaction(work)
