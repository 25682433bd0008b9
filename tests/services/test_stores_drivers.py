"""Each of the four local servers answers the real async driver the app uses: write, read back,
delete, under names of its own (a temp table, a key prefix, a database, a keyspace)."""

from __future__ import annotations

import asyncio
import uuid

from quartet.local_ports import CASSANDRA_PORT
from tests.services import (
    cassandra_session,
    cql,
    mongo_client,
    pg_connect,
    redis_client,
    unique,
)


async def test_postgres_round_trip_through_asyncpg() -> None:
    conn = await pg_connect()
    try:
        assert conn.get_server_version().major == 15
        assert await conn.fetchval("SELECT current_database()") == "quartet_test"
        await conn.execute(
            "CREATE TEMP TABLE services_probe (id int PRIMARY KEY, body text NOT NULL,"
            " at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.executemany(
            "INSERT INTO services_probe (id, body) VALUES ($1, $2)", [(1, "one"), (2, "two")]
        )
        rows = await conn.fetch("SELECT id, body FROM services_probe ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, "one"), (2, "two")]

        assert await conn.execute("DELETE FROM services_probe WHERE id = $1", 1) == "DELETE 1"
        assert await conn.fetchval("SELECT count(*) FROM services_probe") == 1
        assert await conn.fetchval("SELECT body FROM services_probe WHERE id = 1") is None
    finally:
        await conn.close()


async def test_redis_round_trip_through_redis_asyncio() -> None:
    prefix = f"test:services:{uuid.uuid4().hex}:"
    key = f"{prefix}greeting"
    client = redis_client()
    try:
        info = await client.info("server")
        assert str(info["redis_version"]).startswith("7.")
        assert await client.set(key, "hello", ex=60) is True
        assert await client.get(key) == "hello"
        assert 0 < await client.ttl(key) <= 60
        assert await client.incr(f"{prefix}counter") == 1
        assert sorted([k async for k in client.scan_iter(match=f"{prefix}*")]) == [
            f"{prefix}counter",
            key,
        ]

        assert await client.delete(key) == 1
        assert await client.get(key) is None
        assert await client.exists(key) == 0
    finally:
        leftovers = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if leftovers:
            await client.unlink(*leftovers)
        await client.aclose()


async def test_mongo_round_trip_through_pymongo_async() -> None:
    name = unique("quartet_services")
    client = mongo_client()
    try:
        assert (await client.admin.command("ping"))["ok"] == 1
        items = client[name]["items"]
        inserted = await items.insert_one({"name": "alpha", "tags": ["a", "b"], "n": 1})
        await items.insert_many([{"name": "beta", "n": 2}, {"name": "gamma", "n": 3}])

        found = await items.find_one({"_id": inserted.inserted_id}, {"_id": 0})
        assert found == {"name": "alpha", "tags": ["a", "b"], "n": 1}
        names = [d["name"] async for d in items.find({"n": {"$gte": 2}}).sort("n", -1)]
        assert names == ["gamma", "beta"]

        deleted = await items.delete_one({"_id": inserted.inserted_id})
        assert deleted.deleted_count == 1
        assert await items.find_one({"_id": inserted.inserted_id}) is None
        assert await items.count_documents({}) == 2
    finally:
        await client.drop_database(name)
        assert name not in await client.list_database_names()
        await client.close()


async def test_cassandra_round_trip_through_cassandra_driver() -> None:
    keyspace = unique("quartet_services")
    async with cassandra_session() as session:
        (local,) = await cql(session, "SELECT release_version FROM system.local")
        assert local.release_version.startswith("5.0.")
        assert session.cluster.port == CASSANDRA_PORT
        await cql(
            session,
            f"CREATE KEYSPACE {keyspace} WITH replication ="
            " {'class': 'SimpleStrategy', 'replication_factor': 1}",
        )
        try:
            await asyncio.to_thread(session.set_keyspace, keyspace)
            await cql(session, "CREATE TABLE items (id uuid PRIMARY KEY, name text, n int)")
            first, second = uuid.uuid4(), uuid.uuid4()
            insert = await asyncio.to_thread(
                session.prepare, "INSERT INTO items (id, name, n) VALUES (?, ?, ?)"
            )
            await cql(session, insert, (first, "alpha", 1))
            await cql(session, insert, (second, "beta", 2))

            select = await asyncio.to_thread(
                session.prepare, "SELECT name, n FROM items WHERE id = ?"
            )
            (row,) = await cql(session, select, (first,))
            assert (row.name, row.n) == ("alpha", 1)
            assert len(await cql(session, "SELECT id FROM items")) == 2

            await cql(session, "DELETE FROM items WHERE id = %s", (first,))
            assert await cql(session, select, (first,)) == []
            (row,) = await cql(session, select, (second,))
            assert row.name == "beta"
        finally:
            await cql(session, f"DROP KEYSPACE IF EXISTS {keyspace}")
        remaining = await cql(session, "SELECT keyspace_name FROM system_schema.keyspaces")
        assert keyspace not in {r.keyspace_name for r in remaining}
