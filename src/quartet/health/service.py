"""Probes: every store pinged concurrently, each under its own short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from quartet import __version__
from quartet.core.errors import StoreUnavailableError
from quartet.health.repository import DatabaseProbeRepository
from quartet.health.schemas import DatabaseOut, HealthOut, ReadinessOut, StoreStatus
from quartet.media.schemas import StorageHealthOut
from quartet.media.storage import ObjectStorage
from quartet.settings import Settings
from quartet.stores.registry import STORE_NAMES, Stores


async def _check(stores: Stores, name: str, limit_s: float) -> StoreStatus:
    return await _timed(lambda: stores.ping(name), limit_s)


async def _timed(ping: Callable[[], Awaitable[str | None]], limit_s: float) -> StoreStatus:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit_s):
            version = await ping()
    except Exception as error:
        reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
        return StoreStatus(
            status="unavailable",
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error=reason,
        )
    return StoreStatus(
        status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2), version=version
    )


class HealthService:
    """One per app (or once by `quartet check`) over the app's stores."""

    def __init__(self, stores: Stores, database: DatabaseProbeRepository) -> None:
        self.stores = stores
        self.settings: Settings = stores.settings
        self.database_probe = database
        self._health = HealthOut(
            status="ok",
            service=self.settings.PROJECT_NAME,
            version=__version__,
            environment=self.settings.ENVIRONMENT,
        )

    def health(self) -> HealthOut:
        """What the process says of itself: the same for its whole life."""
        return self._health

    async def readiness(self) -> ReadinessOut:
        timeout = self.settings.HEALTH_CHECK_TIMEOUT
        results = await asyncio.gather(
            *(_check(self.stores, name, timeout) for name in STORE_NAMES)
        )
        by_name = dict(zip(STORE_NAMES, results, strict=True))
        failed = [name for name, status in by_name.items() if status.status != "ok"]
        return ReadinessOut(status="unavailable" if failed else "ok", stores=by_name, failed=failed)

    async def database(self) -> DatabaseOut:
        """PostgreSQL's facts within HEALTH_CHECK_TIMEOUT, else 503 naming it."""
        try:
            async with asyncio.timeout(self.settings.HEALTH_CHECK_TIMEOUT):
                version, name = await self.database_probe.server_facts()
        except TimeoutError:
            raise StoreUnavailableError("postgres") from None
        pool = self.database_probe.pool_state()
        return DatabaseOut(status="ok", version=version, database=name, pool=pool)

    async def storage(self, storage: ObjectStorage) -> StorageHealthOut:
        """The media object store (`MEDIA_STORAGE`): which backend, and whether it answers."""
        result = await _timed(storage.ping, self.settings.HEALTH_CHECK_TIMEOUT)
        return StorageHealthOut(
            status=result.status,
            backend=storage.backend,
            latency_ms=result.latency_ms,
            reason=result.error,
        )


def health_service(stores: Stores) -> HealthService:
    return HealthService(stores, DatabaseProbeRepository(stores.engine))
