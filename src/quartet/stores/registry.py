"""All four stores of one app instance, opened and closed together by the lifespan."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartet.core.errors import AppError, NotFoundError, StoreUnavailableError
from quartet.core.rate_limit import RateLimiter
from quartet.settings import Settings
from quartet.stores import cassandra, mongo, postgres, redis
from quartet.stores.cassandra import CassandraStore
from quartet.stores.errors import RecordNotFoundError, StoreUnreachableError
from quartet.stores.mongo_pool import MongoPoolUsage
from quartet.stores.monitoring import QueryMonitor

logger = logging.getLogger(__name__)

Translation = Callable[[Exception], AppError]

STORE_NAMES = ("postgres", "redis", "mongodb", "cassandra")


class Stores:
    """Clients, pools and query monitors; nothing connects until `open()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.monitors = {
            name: QueryMonitor(
                name, slow_ms=settings.SLOW_QUERY_MS, slow_log_size=settings.SLOW_QUERY_LOG_SIZE
            )
            for name in ("postgres", "mongodb", "cassandra")
        }
        self.engine: AsyncEngine = postgres.create_engine(settings, self.monitors["postgres"])
        self.sessionmaker: async_sessionmaker[AsyncSession] = postgres.create_sessionmaker(
            self.engine
        )
        self._made_sessionmaker = self.sessionmaker
        self._autocommit_sessionmaker = postgres.create_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.redis: Redis = redis.create_client(settings)
        self.rate_limiter = RateLimiter(settings.REDIS_KEY_PREFIX)
        self.mongo_pool = MongoPoolUsage()
        self.mongo_client: AsyncMongoClient[mongo.MongoDocument] = mongo.create_client(
            settings, self.monitors["mongodb"], self.mongo_pool
        )
        self.mongo: mongo.MongoDatabase = mongo.database(self.mongo_client, settings.MONGODB_DB)
        self.cassandra = CassandraStore(settings, self.monitors["cassandra"])

    @property
    def read_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for work that only reads: autocommit, so a read costs its queries and no
        BEGIN or COMMIT round trip. Under READ COMMITTED each statement takes its own snapshot
        inside a transaction too, so nothing is lost. A sessionmaker put in place of the one
        made here (tests bind one to an outer transaction) serves reads as well, so they see
        what it wrote."""
        if self.sessionmaker is self._made_sessionmaker:
            return self._autocommit_sessionmaker
        return self.sessionmaker

    @property
    def transactions(self) -> postgres.TransactionRunner:
        return postgres.TransactionRunner(self.sessionmaker, self.settings)

    async def open(self) -> None:
        """Warm what can be warmed; a store that is down is reported by readiness, not fatal."""
        await self.cassandra.connect()

    async def close(self) -> None:
        await self.cassandra.close()
        await self.mongo_client.close()
        await self.redis.aclose()
        await self.engine.dispose()

    async def ping(self, store: str) -> str | None:
        """Answer a real round trip to `store`; returns a version string where cheap."""
        if store == "postgres":
            await postgres.ping(self.engine)
        elif store == "redis":
            await redis.ping(self.redis)
        elif store == "mongodb":
            await mongo.ping(self.mongo_client)
        elif store == "cassandra":
            return await self.cassandra.ping()
        else:
            raise ValueError(store)
        return None

    def query_stats(self) -> dict[str, Any]:
        """In-process read of the query monitors (endpoints come with observability)."""
        return {
            name: {"statements": m.stats(), "slow": [vars(q) for q in m.slow_queries()]}
            for name, m in self.monitors.items()
        }

    def reset_query_stats(self) -> None:
        for monitor in self.monitors.values():
            monitor.reset()


def error_translations() -> Mapping[type[Exception], Translation]:
    """How the error handlers render what the stores raise: a driver error that means "this
    store is unreachable" is a 503 naming the store (each store module's `translate_error`
    decides which are, and re-raises the rest), a missing record a 404. Stores raise only
    store-level errors (`quartet.stores.errors`); this table is where they meet the HTTP ones."""
    table: dict[type[Exception], Translation] = {
        RecordNotFoundError: _not_found,
        StoreUnreachableError: _unreachable,
    }
    for module in (postgres, redis, mongo, cassandra):
        for exc_type in module.UNAVAILABLE_ERRORS:
            table[exc_type] = _unavailable(module.translate_error)
    return table


def _unavailable(translate: Callable[[Exception], StoreUnreachableError]) -> Translation:
    return lambda error: StoreUnavailableError(translate(error).store)


def _unreachable(error: Exception) -> AppError:
    """An outage a store module found itself (replicas that did not confirm a revocation)."""
    return StoreUnavailableError(cast(StoreUnreachableError, error).store)


def _not_found(error: Exception) -> AppError:
    return NotFoundError(str(error))
