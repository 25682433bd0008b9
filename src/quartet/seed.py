"""`quartet db seed`: idempotent data every environment needs, run in one transaction.

A domain registers an async seeder `(session, settings) -> summary line` in `SEEDERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.rbac.seed import seed_rbac
from quartet.settings import Settings
from quartet.stores.postgres import unit_of_work
from quartet.stores.registry import Stores
from quartet.users.seed import seed_superuser

Seeder = Callable[[AsyncSession, Settings], Awaitable[str]]

SEEDERS: list[Seeder] = [seed_superuser, seed_rbac]


async def run_seeders(stores: Stores) -> list[str]:
    async with unit_of_work(stores.sessionmaker) as session:
        return [await seeder(session, stores.settings) for seeder in SEEDERS]
