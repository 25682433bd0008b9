"""`unit_of_work`: the request's transaction commits on success and rolls back on any error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from quartet.core.ids import uuid7
from quartet.stores.postgres import create_engine, create_sessionmaker, unit_of_work
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
