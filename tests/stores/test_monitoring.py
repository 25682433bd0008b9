"""Query monitoring over the three query stores (PostgreSQL, MongoDB, Cassandra), for real.

Statements are recorded normalised, with count / total / max / p95 / rows and errors; bound
values never reach the recorded statement; slow statements land in a bounded list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import exc, text

from quartet.core.ids import uuid7
from quartet.stores.monitoring import QueryMonitor
from quartet.stores.registry import Stores
from tests.conftest import make_settings

SECRETS = ("s3cret-value", "s3cret-sql", "s3cret-cql")


def _stats(monitor: QueryMonitor, *needles: str) -> dict[str, Any]:
    """The one statement whose text contains every needle."""
    found = [s for s in monitor.stats() if all(n in s["statement"] for n in needles)]
    assert len(found) == 1, [s["statement"] for s in monitor.stats()]
    return found[0]


def _assert_timings(stats: dict[str, Any], count: int) -> None:
    assert stats["count"] == count
    assert stats["total_ms"] > 0
    assert stats["total_ms"] >= stats["max_ms"] >= stats["p95_ms"] > 0
    assert stats["max_ms"] >= stats["mean_ms"] > 0
    assert stats["mean_ms"] == pytest.approx(stats["total_ms"] / count, abs=0.01)


def _assert_no_secret(stores: Stores) -> None:
    for name, monitor in stores.monitors.items():
        recorded = [s["statement"] for s in monitor.stats()]
        recorded += [q.statement for q in monitor.slow_queries()]
        for statement in recorded:
            for secret in SECRETS:
                assert secret not in statement, (name, statement)


async def test_postgres_statements_are_recorded(stores: Stores) -> None:
    monitor = stores.monitors["postgres"]
    async with stores.engine.connect() as conn:
        for _ in range(3):
            rows = (
                await conn.execute(text("SELECT generate_series(1, :n) AS monitored_pg"), {"n": 5})
            ).all()
            assert len(rows) == 5
        value = (
            await conn.execute(text("SELECT :v AS monitored_pg_secret"), {"v": "s3cret-sql"})
        ).scalar_one()
        assert value == "s3cret-sql"
        with pytest.raises(exc.DBAPIError):
            await conn.execute(
                text("SELECT 1 / (:zero - :zero) AS monitored_pg_error"), {"zero": 0}
            )

    series = _stats(monitor, "monitored_pg", "generate_series")
    _assert_timings(series, 3)
    assert series["rows"] == 15
    assert series["errors"] == 0
    assert "$1" in series["statement"]  # the placeholder, not the value

    secret = _stats(monitor, "monitored_pg_secret")
    assert secret["count"] == 1
    assert secret["rows"] == 1

    failed = _stats(monitor, "monitored_pg_error")
    assert failed["errors"] == 1
    _assert_no_secret(stores)


async def test_mongodb_commands_are_recorded_as_shapes(stores: Stores) -> None:
    monitor = stores.monitors["mongodb"]
    collection = stores.mongo[f"monitoring_{uuid7().hex[-10:]}"]
    try:
        await collection.insert_many(
            [{"kind": "monitored", "n": i, "secret": f"s3cret-value-{i}"} for i in range(3)]
        )
        for _ in range(2):
            assert len(await collection.find({"kind": "monitored"}).to_list()) == 3
        assert await collection.find({"secret": "s3cret-value"}).to_list() == []
        assert await collection.count_documents({"n": {"$gte": 1}}) == 2
    finally:
        await collection.drop()

    where = f"{stores.settings.MONGODB_DB}.{collection.name}"
    insert = _stats(monitor, "insert", where)
    assert insert["rows"] == 3

    by_kind = _stats(monitor, "find", where, "filter={'kind': '?'}")
    _assert_timings(by_kind, 2)
    assert by_kind["rows"] == 6

    by_secret = _stats(monitor, "find", where, "filter={'secret': '?'}")
    assert by_secret["rows"] == 0

    count = _stats(monitor, "aggregate", where, "$match")
    assert count["count"] == 1
    _assert_no_secret(stores)


async def test_cassandra_statements_are_recorded(stores: Stores) -> None:
    monitor = stores.monitors["cassandra"]
    query = (
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? /* monitored_cql */"
    )
    found = await stores.cassandra.execute(query, ["system_schema"])
    assert found.rows
    missing = await stores.cassandra.execute(query, ["s3cret-cql"])
    assert missing.rows == []

    stats = _stats(monitor, "monitored_cql")
    _assert_timings(stats, 2)
    assert stats["rows"] == len(found.rows)
    assert "keyspace_name = ?" in stats["statement"]
    _assert_no_secret(stores)


@pytest.fixture
async def slow_stores(app: object) -> AsyncIterator[Stores]:
    """Fresh stores whose monitors call anything over 10 ms slow and keep the last two."""
    stores = Stores(make_settings(SLOW_QUERY_MS=10, SLOW_QUERY_LOG_SIZE=2))
    try:
        yield stores
    finally:
        await stores.close()


async def test_slow_queries_are_kept_in_a_bounded_list(slow_stores: Stores) -> None:
    monitor = slow_stores.monitors["postgres"]
    async with slow_stores.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # connection set-up statements out of the way
        monitor.reset()
        assert monitor.stats() == []
        assert monitor.slow_queries() == []

        for tag in ("first", "second", "third"):
            await conn.execute(text(f"SELECT pg_sleep(0.05), '{tag}' AS tag"))

    slow = monitor.slow_queries()
    assert len(slow) == 2  # SLOW_QUERY_LOG_SIZE
    assert ["second" in slow[0].statement, "third" in slow[1].statement] == [True, True]
    for entry in slow:
        assert entry.store == "postgres"
        assert "pg_sleep" in entry.statement
        assert entry.duration_ms >= 50
        assert entry.at.tzinfo is not None
    assert monitor.total_count() == 3  # all three are still counted in the statistics

    stats = slow_stores.query_stats()["postgres"]
    assert [q["statement"] for q in stats["slow"]] == [q.statement for q in slow]

    monitor.reset()
    assert monitor.stats() == []
    assert monitor.slow_queries() == []
    assert monitor.total_count() == 0


def test_fast_queries_are_not_slow() -> None:
    monitor = QueryMonitor("postgres", slow_ms=1000, slow_log_size=5)
    monitor.record("SELECT 1", 0.001, 1)
    monitor.record("SELECT pg_sleep(2)", 2.0, 1)
    assert [q.statement for q in monitor.slow_queries()] == ["SELECT pg_sleep(2)"]


async def test_reset_all_monitors(slow_stores: Stores) -> None:
    async with slow_stores.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    await slow_stores.mongo["monitoring_reset"].find_one({"x": 1})
    assert slow_stores.monitors["postgres"].total_count() > 0
    assert slow_stores.monitors["mongodb"].total_count() > 0
    slow_stores.reset_query_stats()
    assert all(m.total_count() == 0 for m in slow_stores.monitors.values())
    assert all(not v["statements"] for v in slow_stores.query_stats().values())
