"""CassandraStore (the cassandra-driver to asyncio bridge) against the real Cassandra node:
paging with the driver's paging state, `iterate`, the prepared-statement cache and batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from cassandra import InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from fastapi import FastAPI

from quartet.core.ids import uuid7
from quartet.stores.cassandra import READS, CassandraStore
from quartet.stores.registry import Stores

ROWS = 25


@dataclass
class Table:
    store: CassandraStore
    name: str  # keyspace-qualified

    def insert(self) -> str:
        return f"INSERT INTO {self.name} (bucket, seq, note) VALUES (?, ?, ?)"

    def select(self) -> str:
        return f"SELECT seq, note FROM {self.name} WHERE bucket = ?"


@pytest.fixture(scope="module")
async def table(app: FastAPI) -> AsyncIterator[Table]:
    """One table in the run's keyspace (created by the `app` fixture), dropped afterwards."""
    stores: Stores = app.state.stores
    store = stores.cassandra
    name = f"{store.keyspace}.bridge_{uuid7().hex[-10:]}"
    await store.execute_ddl(
        f"CREATE TABLE {name} (bucket text, seq int, note text, PRIMARY KEY (bucket, seq))"
    )
    created = Table(store, name)
    await asyncio.gather(
        *(store.execute(created.insert(), ["paged", i, f"note {i}"]) for i in range(ROWS))
    )
    try:
        yield created
    finally:
        await store.execute_ddl(f"DROP TABLE IF EXISTS {name}")


async def test_pages_with_fetch_size_and_paging_state(table: Table) -> None:
    pages = []
    paging_state: bytes | None = None
    while True:
        page = await table.store.execute(
            table.select(), ["paged"], fetch_size=10, paging_state=paging_state
        )
        pages.append(page)
        if page.paging_state is None:
            break
        assert isinstance(page.paging_state, bytes)
        paging_state = page.paging_state
        assert len(pages) < 10, "paging never ended"

    assert [len(p.rows) for p in pages] == [10, 10, 5]
    seqs = [row["seq"] for page in pages for row in page.rows]
    assert seqs == list(range(ROWS))  # clustering order, no row twice, none missing
    assert pages[0].rows[0] == {"seq": 0, "note": "note 0"}


async def test_a_paging_state_resumes_where_it_stopped(table: Table) -> None:
    first = await table.store.execute(table.select(), ["paged"], fetch_size=7)
    again = await table.store.execute(
        table.select(), ["paged"], fetch_size=7, paging_state=first.paging_state
    )
    assert [r["seq"] for r in first.rows] == list(range(7))
    assert [r["seq"] for r in again.rows] == list(range(7, 14))


async def test_without_fetch_size_everything_comes_in_one_page(table: Table) -> None:
    page = await table.store.execute(table.select(), ["paged"])
    assert len(page.rows) == ROWS
    assert page.paging_state is None


async def test_iterate_returns_every_row(table: Table) -> None:
    rows = [row async for row in table.store.iterate(table.select(), ["paged"], fetch_size=4)]
    assert [r["seq"] for r in rows] == list(range(ROWS))
    empty = [row async for row in table.store.iterate(table.select(), ["nothing-here"])]
    assert empty == []


async def test_prepared_statements_are_cached(table: Table) -> None:
    query = f"SELECT note FROM {table.name} WHERE bucket = ? AND seq = ?"
    first = await table.store.prepare(query)
    second = await table.store.prepare(query)
    assert first is second
    assert (await table.store.prepare(table.select())) is not first
    page = await table.store.execute(query, ["paged", 3])
    assert page.rows == [{"note": "note 3"}]
    assert (await table.store.prepare(query)) is first  # execute used the cached statement


async def test_concurrent_first_uses_share_one_preparation(table: Table) -> None:
    query = f"SELECT seq FROM {table.name} WHERE bucket = ? AND seq = ?"  # new to the cache
    statements = await asyncio.gather(*(table.store.prepare(query) for _ in range(20)))
    assert all(statement is statements[0] for statement in statements)


async def test_statements_are_idempotent_and_reads_use_the_reads_profile(table: Table) -> None:
    """So the driver may retry a statement on another node, and speculate only on reads."""
    session = await table.store.session()
    sent = []
    original = session.execute_async

    def spy(statement: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append((statement.is_idempotent, kwargs.get("execution_profile")))
        return original(statement, *args, **kwargs)

    session.execute_async = spy
    try:
        await table.store.execute(table.insert(), ["idem", 1, "x"])
        await table.store.execute(table.select(), ["idem"])
    finally:
        del session.execute_async
    assert sent == [(True, EXEC_PROFILE_DEFAULT), (True, READS)]


async def test_batch_writes_every_statement(table: Table) -> None:
    bucket = f"batch-{uuid7().hex[-8:]}"
    await table.store.execute_batch(
        [
            (table.insert(), [bucket, 1, "one"]),
            (table.insert(), [bucket, 2, "two"]),
            (f"UPDATE {table.name} SET note = ? WHERE bucket = ? AND seq = ?", ["uno", bucket, 1]),
        ]
    )
    page = await table.store.execute(table.select(), [bucket])
    assert page.rows == [{"seq": 1, "note": "uno"}, {"seq": 2, "note": "two"}]


async def test_batch_is_all_or_nothing(table: Table) -> None:
    """A conditional batch whose condition fails applies none of its statements."""
    bucket = f"atomic-{uuid7().hex[-8:]}"
    await table.store.execute(table.insert(), [bucket, 1, "already there"])
    conditional = f"INSERT INTO {table.name} (bucket, seq, note) VALUES (?, ?, ?) IF NOT EXISTS"
    await table.store.execute_batch(
        [(conditional, [bucket, 1, "clash"]), (table.insert(), [bucket, 2, "must not land"])]
    )
    page = await table.store.execute(table.select(), [bucket])
    assert page.rows == [{"seq": 1, "note": "already there"}]


async def test_a_rejected_batch_writes_nothing(table: Table) -> None:
    """Cassandra refuses a conditional batch spanning partitions before writing anything."""
    conditional = f"INSERT INTO {table.name} (bucket, seq, note) VALUES (?, ?, ?) IF NOT EXISTS"
    a, b = f"reject-a-{uuid7().hex[-8:]}", f"reject-b-{uuid7().hex[-8:]}"
    with pytest.raises(InvalidRequest):
        await table.store.execute_batch([(conditional, [a, 1, "x"]), (table.insert(), [b, 1, "y"])])
    for bucket in (a, b):
        assert (await table.store.execute(table.select(), [bucket])).rows == []


async def test_errors_come_back_on_the_event_loop(table: Table) -> None:
    with pytest.raises(InvalidRequest):
        await table.store.execute(f"SELECT nope FROM {table.name} WHERE bucket = ?", ["x"])
