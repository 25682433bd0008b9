"""PostgreSQL facts for the database probe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartet.health.schemas import PoolState


class DatabaseProbeRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def server_facts(self) -> tuple[str, str]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT current_setting('server_version'), current_database()")
            )
            row = result.one()
        return str(row[0]), str(row[1])

    def pool_state(self) -> PoolState:
        pool: Any = self.engine.pool
        return PoolState(
            size=pool.size(),
            checked_in=pool.checkedin(),
            checked_out=pool.checkedout(),
            overflow=pool.overflow(),
        )
