"""`unit_of_work`: the request's transaction commits on success and rolls back on any error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartet.core.ids import uuid7
from quartet.stores.postgres import (
    TransactionRunner,
    after_commit,
    create_engine,
    create_sessionmaker,
    unit_of_work,
)
from tests.conftest import make_settings


class Boom(Exception):
    pass


@pytest.fixture
async def engine(app: object) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings())
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def table(engine: AsyncEngine) -> AsyncIterator[str]:
    name = f"uow_scratch_{uuid7().hex[-12:]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} (id int PRIMARY KEY, note text)"))
    try:
        yield name
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


async def _notes(engine: AsyncEngine, table: str) -> list[str]:
    """What another connection sees (i.e. only committed rows)."""
    async with engine.connect() as conn:
        return list((await conn.execute(text(f"SELECT note FROM {table} ORDER BY id"))).scalars())


async def test_commits_when_the_block_succeeds(engine: AsyncEngine, table: str) -> None:
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await session.execute(text(f"INSERT INTO {table} VALUES (1, 'kept')"))
        assert await _notes(engine, table) == []  # not visible before the commit
    assert await _notes(engine, table) == ["kept"]


async def test_rolls_back_when_the_block_raises(engine: AsyncEngine, table: str) -> None:
    async def failing_request() -> None:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            await session.execute(text(f"INSERT INTO {table} VALUES (1, 'discarded')"))
            await session.flush()
            raise Boom

    with pytest.raises(Boom):
        await failing_request()
    assert await _notes(engine, table) == []


async def test_rolls_back_on_a_database_error(engine: AsyncEngine, table: str) -> None:
    async def conflicting_request() -> None:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            await session.execute(text(f"INSERT INTO {table} VALUES (1, 'first')"))
            await session.execute(text(f"INSERT INTO {table} VALUES (1, 'duplicate')"))

    with pytest.raises(IntegrityError):
        await conflicting_request()
    assert await _notes(engine, table) == []
    # The pool is healthy afterwards: the next unit of work commits normally.
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await session.execute(text(f"INSERT INTO {table} VALUES (2, 'after')"))
    assert await _notes(engine, table) == ["after"]


async def test_after_commit_callbacks_run_only_once_committed(
    engine: AsyncEngine, table: str
) -> None:
    announced: list[str] = []
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await session.execute(text(f"INSERT INTO {table} VALUES (1, 'kept')"))
        after_commit(session, lambda: announced.append("kept"))
        assert announced == []  # nothing is announced before COMMIT
    assert announced == ["kept"]

    async def announce_then_fail() -> None:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            after_commit(session, lambda: announced.append("discarded"))
            raise Boom

    with pytest.raises(Boom):
        await announce_then_fail()
    assert announced == ["kept"]


async def test_a_retried_attempt_announces_nothing(engine: AsyncEngine, table: str) -> None:
    """The failed attempt's callback is dropped with its rollback; only the attempt that
    committed announces its work, once."""
    announced: list[int] = []
    attempts = 0
    runner = TransactionRunner(create_sessionmaker(engine), make_settings())

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        attempt = attempts
        after_commit(session, lambda: announced.append(attempt))
        await session.execute(text(f"INSERT INTO {table} VALUES ({attempt}, 'try')"))
        if attempt == 1:  # a real serialization failure from the server
            await session.execute(
                text("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            )

    await runner.run(work)
    assert attempts == 2
    assert announced == [2]
    assert await _notes(engine, table) == ["try"]
