"""TransactionRunner against the real PostgreSQL: serialization failures, give-up, dropped
connections (retried) and a connection lost at COMMIT (never retried).

Each test works in its own scratch table (unique name, dropped afterwards) in `quartet_test`,
through an engine of its own, so real commits never touch the app's tables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartet.core.ids import uuid7
from quartet.stores.postgres import (
    CommitOutcomeUnknownError,
    TransactionRunner,
    create_engine,
    create_sessionmaker,
)
from tests.conftest import make_settings

BASE_DELAY = 0.01
RETRY_SETTINGS = {"DB_RETRY_MAX_ATTEMPTS": 3, "DB_RETRY_BASE_DELAY": BASE_DELAY}


@dataclass
class Scratch:
    engine: AsyncEngine
    runner: TransactionRunner
    table: str

    async def scalar(self, sql: str) -> object:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar_one()

    async def terminate(self, pid: int) -> None:
        """Kill a backend from another connection and wait (up to 5 s) until it is gone."""
        async with self.engine.connect() as conn:
            killed = await conn.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
            )
            assert killed.scalar_one() is True


class RetryLog(logging.Handler):
    """Collects the runner's "retrying transaction" records (with their SQLSTATE)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def sqlstates(self) -> list[object]:
        return [getattr(r, "sqlstate", None) for r in self.records]

    def assert_backoff_follows_base_delay(self) -> None:
        """Waits grow from DB_RETRY_BASE_DELAY with jitter of the same order (not seconds)."""
        for record in self.records:
            attempt = int(getattr(record, "attempt", 0))
            ceiling = BASE_DELAY * 2 ** (attempt - 1) + BASE_DELAY + 0.001
            assert 0 < float(getattr(record, "sleep_s", -1)) <= ceiling, vars(record)


@pytest.fixture
async def scratch(app: object) -> AsyncIterator[Scratch]:
    """`app` makes sure the test database is migrated; the table is ours alone."""
    settings = make_settings(**RETRY_SETTINGS)
    engine = create_engine(settings)
    table = f"retry_scratch_{uuid7().hex[-12:]}"
    async with engine.begin() as conn:
        await conn.execute(
            text(f"CREATE TABLE {table} (id serial PRIMARY KEY, value int NOT NULL DEFAULT 0)")
        )
    try:
        yield Scratch(engine, TransactionRunner(create_sessionmaker(engine), settings), table)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await engine.dispose()


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("quartet.stores.postgres")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def _backend_pid(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_serialization_failure_is_retried_until_both_succeed(
    scratch: Scratch, retry_log: RetryLog
) -> None:
    """Both transactions read the count before either inserts (a read/write cycle under
    SERIALIZABLE): PostgreSQL aborts one with 40001, the runner re-runs it, both land."""
    barrier = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}
    seen_counts: dict[str, list[int]] = {"a": [], "b": []}

    def work_for(name: str) -> Callable[[AsyncSession], Awaitable[int]]:
        async def work(session: AsyncSession) -> int:
            attempts[name] += 1
            count = int(
                (await session.execute(text(f"SELECT count(*) FROM {scratch.table}"))).scalar_one()
            )
            seen_counts[name].append(count)
            if attempts[name] == 1:
                async with asyncio.timeout(10):
                    await barrier.wait()  # both have read; now both write
            await session.execute(
                text(f"INSERT INTO {scratch.table} (value) VALUES (:v)"), {"v": count}
            )
            return count

        return work

    results = await asyncio.gather(
        scratch.runner.run(work_for("a"), isolation_level="SERIALIZABLE"),
        scratch.runner.run(work_for("b"), isolation_level="SERIALIZABLE"),
    )

    assert sorted(attempts.values()) == [1, 2], attempts
    assert sorted(results) == [0, 1]  # the retried one saw the other's committed row
    assert retry_log.sqlstates == ["40001"]
    retry_log.assert_backoff_follows_base_delay()
    assert await scratch.scalar(f"SELECT count(*) FROM {scratch.table}") == 2
    loser = next(name for name, n in attempts.items() if n == 2)
    assert seen_counts[loser] == [0, 1]


async def test_gives_up_after_max_attempts(scratch: Scratch, retry_log: RetryLog) -> None:
    """Under REPEATABLE READ a row changed by another committed transaction after our snapshot
    makes our UPDATE fail with 40001, on every attempt: the runner stops at the budget."""
    async with scratch.engine.begin() as conn:
        await conn.execute(text(f"INSERT INTO {scratch.table} (id, value) VALUES (1, 0)"))
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(text(f"SELECT value FROM {scratch.table} WHERE id = 1"))
        async with scratch.engine.begin() as other:  # interferes, and commits
            await other.execute(text(f"UPDATE {scratch.table} SET value = value + 1 WHERE id = 1"))
        await session.execute(text(f"UPDATE {scratch.table} SET value = -1 WHERE id = 1"))

    with pytest.raises(exc.DBAPIError) as raised:
        await scratch.runner.run(work, isolation_level="REPEATABLE READ")

    assert attempts == 3 == scratch.runner.max_attempts
    assert getattr(raised.value.orig, "sqlstate", None) == "40001"
    assert retry_log.sqlstates == ["40001", "40001"]  # two retries, then it gave up
    retry_log.assert_backoff_follows_base_delay()
    # Only the interfering updates landed; none of ours did.
    assert await scratch.scalar(f"SELECT value FROM {scratch.table} WHERE id = 1") == 3


async def test_other_errors_are_not_retried(scratch: Scratch) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(text(f"INSERT INTO {scratch.table} (id) VALUES (7), (7)"))

    with pytest.raises(exc.IntegrityError):
        await scratch.runner.run(work)
    assert attempts == 1
    assert await scratch.scalar(f"SELECT count(*) FROM {scratch.table}") == 0


async def test_connection_killed_before_a_statement_is_retried(
    scratch: Scratch, retry_log: RetryLog
) -> None:
    attempts = 0
    pids: list[int] = []

    async def work(session: AsyncSession) -> int:
        nonlocal attempts
        attempts += 1
        pids.append(await _backend_pid(session))
        if attempts == 1:
            await scratch.terminate(pids[-1])
        await session.execute(text(f"INSERT INTO {scratch.table} (value) VALUES (42)"))
        return attempts

    assert await scratch.runner.run(work) == 2
    assert attempts == 2
    assert pids[0] != pids[1]  # the second attempt ran on a fresh connection
    assert len(retry_log.records) == 1
    assert await scratch.scalar(f"SELECT count(*) FROM {scratch.table}") == 1


async def test_connection_lost_at_commit_is_not_retried(scratch: Scratch) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(text(f"INSERT INTO {scratch.table} (value) VALUES (1)"))
        await scratch.terminate(await _backend_pid(session))  # COMMIT comes next

    with pytest.raises(CommitOutcomeUnknownError) as raised:
        await scratch.runner.run(work)

    assert attempts == 1
    assert isinstance(raised.value.__cause__, exc.DBAPIError)
    # Here the server died before COMMIT arrived, so nothing landed (the runner cannot know).
    assert await scratch.scalar(f"SELECT count(*) FROM {scratch.table}") == 0
