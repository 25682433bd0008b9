"""Idempotent schema for the stores Alembic does not cover (Cassandra keyspace and tables;
MongoDB collections with their validators and indexes).

Applied by `quartet schema`, by the app at start-up (CASSANDRA_APPLY_SCHEMA_ON_START for
Cassandra; always for MongoDB) and by the test fixtures. A domain with Cassandra tables adds its
DDL (with `{ks}` for the keyspace) here; one with MongoDB collections adds its specs.
"""

from __future__ import annotations

import logging

from quartet.shop.repository import SHOP_COLLECTIONS
from quartet.stores.cassandra import CassandraStore
from quartet.stores.mongo import UNAVAILABLE_ERRORS as MONGO_UNAVAILABLE
from quartet.stores.mongo import MongoDatabase
from quartet.stores.mongo_repository import CollectionSpec, apply_collection_spec

logger = logging.getLogger(__name__)

# Event log (quartet.events): one table per access pattern, day-bucketed partitions, newest first.
_EVENT_COLUMNS = "user_id text, event_type text, timestamp timestamp, metadata text"
EVENT_TABLES = [
    f"""CREATE TABLE IF NOT EXISTS {{ks}}.events_by_type (
        day date, event_id uuid, {_EVENT_COLUMNS},
        PRIMARY KEY ((event_type, day), timestamp, event_id)
    ) WITH CLUSTERING ORDER BY (timestamp DESC, event_id DESC)""",
    f"""CREATE TABLE IF NOT EXISTS {{ks}}.events_by_user (
        day date, event_id uuid, {_EVENT_COLUMNS},
        PRIMARY KEY ((user_id, day), timestamp, event_id)
    ) WITH CLUSTERING ORDER BY (timestamp DESC, event_id DESC)""",
    f"""CREATE TABLE IF NOT EXISTS {{ks}}.events_by_id (
        event_id uuid PRIMARY KEY, {_EVENT_COLUMNS}
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.event_partitions (
        day date, kind text, key text, PRIMARY KEY ((day), kind, key)
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.event_days (
        bucket int, day date, PRIMARY KEY ((bucket), day)
    )""",
]

CASSANDRA_TABLES: list[str] = [*EVENT_TABLES]


async def apply_cassandra_schema(cassandra: CassandraStore) -> None:
    await cassandra.apply_schema(CASSANDRA_TABLES)


async def apply_cassandra_schema_on_start(cassandra: CassandraStore) -> None:
    """At app start-up, when Cassandra answers; never fatal (readiness reports an outage)."""
    if not await cassandra.connect():
        return
    try:
        await apply_cassandra_schema(cassandra)
    except Exception as error:
        logger.warning("cassandra schema not applied at start-up: %s", error)


MONGO_COLLECTIONS: list[CollectionSpec] = [*SHOP_COLLECTIONS]


async def apply_mongo_schema(db: MongoDatabase) -> None:
    for spec in MONGO_COLLECTIONS:
        await apply_collection_spec(db, spec)


async def apply_mongo_schema_on_start(db: MongoDatabase) -> None:
    """At app start-up; MongoDB being down is logged, not fatal (readiness reports it, and
    `quartet schema` applies the same once it is back)."""
    try:
        await apply_mongo_schema(db)
    except MONGO_UNAVAILABLE as error:
        logger.warning("mongodb validators and indexes not applied at start-up: %s", error)
