"""What every raw-ceiling app shares: one asyncpg pool of the app's default size, opened and
closed by a Starlette lifespan, on the database named by `DATABASE_URL`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette

from quartet.settings import Settings

POOL_SIZE = int(Settings.model_fields["DB_POOL_SIZE"].default)  # the app's default pool size


def asyncpg_dsn() -> str:
    url = os.environ.get("DATABASE_URL", str(Settings.model_fields["DATABASE_URL"].default))
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def pool_lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        asyncpg_dsn(), min_size=POOL_SIZE, max_size=POOL_SIZE
    )
    try:
        yield
    finally:
        await app.state.pool.close()
