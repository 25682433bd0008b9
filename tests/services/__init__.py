"""Tests of the four local servers (scripts/services.py) through the app's real async drivers.

Shared here: the ports (the same environment variables and defaults as scripts/services.py),
names that no other test or run uses, and a small asyncio bridge over cassandra-driver.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from quartet.local_ports import CASSANDRA_PORT, HOST, MONGO_PORT, PG_PORT, REDIS_PORT

PG_DATABASE = "quartet_test"


def unique(prefix: str) -> str:
    """A name no other test, run or engineer uses (valid as a SQL/CQL identifier)."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def pg_connect(schema: str | None = None) -> asyncpg.Connection:
    """A connection to `quartet_test`, its `search_path` set to `schema` when given."""
    return await asyncpg.connect(
        host=HOST,
        port=PG_PORT,
        user="postgres",
        database=PG_DATABASE,
        timeout=10,
        server_settings={"search_path": schema} if schema else None,
    )


def redis_client() -> Redis:
    return Redis(host=HOST, port=REDIS_PORT, decode_responses=True, socket_connect_timeout=5)


def mongo_client() -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        HOST, MONGO_PORT, directConnection=True, serverSelectionTimeoutMS=10_000
    )


@asynccontextmanager
async def cassandra_session(keyspace: str | None = None) -> AsyncIterator[Session]:
    """A connected session (using `keyspace` when given); connecting and shutting down block,
    so they run in a thread."""
    profile = ExecutionProfile(
        load_balancing_policy=DCAwareRoundRobinPolicy(local_dc="datacenter1"),
        request_timeout=30,
    )
    cluster = Cluster(
        [HOST],
        port=CASSANDRA_PORT,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=10,
        control_connection_timeout=10,
    )
    try:
        yield await asyncio.to_thread(cluster.connect, keyspace)
    finally:
        await asyncio.to_thread(cluster.shutdown)


async def cql(session: Session, query: str, params: Sequence[Any] | None = None) -> list[Any]:
    """Run a statement with the driver's `execute_async`, awaiting its first (only) page."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()

    def settle(rows: Any = None, error: BaseException | None = None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(list(rows or []))

    response = session.execute_async(query, params)
    response.add_callbacks(
        lambda rows: loop.call_soon_threadsafe(settle, rows),
        lambda error: loop.call_soon_threadsafe(settle, None, error),
    )
    return await done
