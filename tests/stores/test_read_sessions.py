"""`Stores.read_sessionmaker`: a route that only reads pays for its queries, not for a BEGIN and
a COMMIT around them; a route that writes keeps its transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quartet.stores.postgres import unit_of_work
from quartet.stores.registry import Stores


async def _server_sees_a_transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether PostgreSQL reports an open transaction right after a SELECT in a unit of work
    (asyncpg reads the server's transaction status off each ReadyForQuery)."""
    async with unit_of_work(sessionmaker) as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
        raw = await (await session.connection()).get_raw_connection()
        assert raw.driver_connection is not None
        in_transaction: bool = raw.driver_connection.is_in_transaction()
        return in_transaction


async def test_a_read_unit_of_work_opens_no_transaction(stores: Stores) -> None:
    assert await _server_sees_a_transaction(stores.read_sessionmaker) is False


async def test_the_request_unit_of_work_still_runs_in_a_transaction(stores: Stores) -> None:
    """Also after a read returned its connection to the shared pool (autocommit is undone)."""
    assert await _server_sees_a_transaction(stores.read_sessionmaker) is False
    assert await _server_sees_a_transaction(stores.sessionmaker) is True


async def test_a_replaced_sessionmaker_serves_reads_too(stores: Stores) -> None:
    """Tests bind a sessionmaker to an outer transaction; reads must see what it wrote."""
    original = stores.sessionmaker
    replacement = async_sessionmaker(stores.engine)
    stores.sessionmaker = replacement
    try:
        assert stores.read_sessionmaker is replacement
    finally:
        stores.sessionmaker = original
    assert stores.read_sessionmaker is not original
