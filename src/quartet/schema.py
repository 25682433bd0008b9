"""Idempotent schema for the stores Alembic does not cover (Cassandra keyspace and tables).

Applied by `quartet schema`, by the app at start-up (CASSANDRA_APPLY_SCHEMA_ON_START) and by the
test fixtures. A domain with Cassandra tables adds its DDL (with `{ks}` for the keyspace) here.
"""

from __future__ import annotations

from quartet.stores.cassandra import CassandraStore

CASSANDRA_TABLES: list[str] = []


async def apply_cassandra_schema(cassandra: CassandraStore) -> None:
    await cassandra.apply_schema(CASSANDRA_TABLES)
