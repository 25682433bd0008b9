"""The store queries behind the observability endpoints: server facts, cluster state and
PostgreSQL's own statement statistics."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure
from sqlalchemy import Select, func, select, table, text
from sqlalchemy import column as column_
from sqlalchemy.ext.asyncio import AsyncEngine

from quartet.observability.schemas import (
    CassandraCluster,
    CassandraPeer,
    MongoCluster,
    MongoMember,
    PgStatementOut,
    PostgresCluster,
    RedisCluster,
)
from quartet.stores.cassandra import CassandraStore
from quartet.stores.redis import RedisClient

# Sort keys of the API mapped to pg_stat_statements columns (identifiers, never user text).
PG_SORT_COLUMNS = {
    "total_ms": "total_exec_time",
    "count": "calls",
    "mean_ms": "mean_exec_time",
    "max_ms": "max_exec_time",
    "rows": "rows",
}


_PG_COLUMNS = ("query", "calls", "total_exec_time", "mean_exec_time", "max_exec_time", "rows")
_PG_STATEMENTS = table("pg_stat_statements", column_("dbid"), *(column_(c) for c in _PG_COLUMNS))


class PostgresInsights:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def server(self) -> tuple[str, PostgresCluster]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_setting('server_version'), current_database(), "
                        "pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication)"
                    )
                )
            ).one()
        return str(row[0]), PostgresCluster(
            database=str(row[1]), in_recovery=bool(row[2]), replicas=int(row[3])
        )

    async def has_pg_stat_statements(self) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
            )
            return found.first() is not None

    async def top_statements(self, sort: str, limit: int) -> list[PgStatementOut]:
        """This database's statements from pg_stat_statements, `sort` (an API key) first."""
        column = PG_SORT_COLUMNS.get(sort, "total_exec_time")
        this_database: Select[tuple[Any]] = (
            select(column_("oid"))
            .select_from(table("pg_database"))
            .where(column_("datname") == func.current_database())
        )
        statement = (
            select(*(_PG_STATEMENTS.c[name] for name in _PG_COLUMNS))
            .where(_PG_STATEMENTS.c.dbid == this_database.scalar_subquery())
            .order_by(_PG_STATEMENTS.c[column].desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            PgStatementOut(
                query=str(r[0]),
                calls=int(r[1]),
                total_ms=round(float(r[2]), 3),
                mean_ms=round(float(r[3]), 3),
                max_ms=round(float(r[4]), 3),
                rows=int(r[5]),
            )
            for r in rows
        ]

    async def reset_statements(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_stat_statements_reset()"))


class MongoInsights:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]]) -> None:
        self.client = client

    async def server(self) -> tuple[str, MongoCluster]:
        build = await self.client.admin.command("buildInfo")
        hello = await self.client.admin.command("hello")
        members = [MongoMember(name=str(host)) for host in hello.get("hosts", [])]
        if hello.get("setName"):
            try:
                status = await self.client.admin.command("replSetGetStatus")
            except OperationFailure:
                pass  # not every server answers it (or lets this user ask): keep hello's hosts
            else:
                members = [
                    MongoMember(
                        name=str(m.get("name")),
                        state=m.get("stateStr"),
                        health=m.get("health"),
                    )
                    for m in status.get("members", [])
                ]
        return str(build.get("version")), MongoCluster(
            set_name=hello.get("setName"),
            primary=hello.get("primary"),
            me=hello.get("me"),
            members=members,
        )


class RedisInsights:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def server(self) -> tuple[str, RedisCluster]:
        info = await self.redis.info("server")
        replication = await self.redis.info("replication")
        return str(info.get("redis_version")), RedisCluster(
            role=str(replication.get("role")),
            connected_replicas=int(replication.get("connected_slaves", 0)),
            mode=info.get("redis_mode"),
        )


class CassandraInsights:
    def __init__(self, store: CassandraStore) -> None:
        self.store = store

    async def server(self) -> tuple[str, CassandraCluster]:
        local = (
            await self.store.execute(
                "SELECT release_version, cluster_name, data_center FROM system.local"
            )
        ).rows[0]
        peers = await self.store.execute(
            "SELECT peer, data_center, rack, release_version FROM system.peers_v2"
        )
        return str(local["release_version"]), CassandraCluster(
            cluster_name=local.get("cluster_name"),
            data_center=local.get("data_center"),
            peers=[
                CassandraPeer(
                    address=str(p["peer"]),
                    data_center=p.get("data_center"),
                    rack=p.get("rack"),
                    release_version=p.get("release_version"),
                )
                for p in peers.rows
            ],
        )
