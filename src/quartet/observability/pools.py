"""Connection pool usage of the four stores (in-process figures, no round trip)."""

from __future__ import annotations

from quartet.health.repository import DatabaseProbeRepository
from quartet.stores import redis
from quartet.stores.registry import Stores


def pool_usage(stores: Stores) -> dict[str, dict[str, int]]:
    return {
        "postgres": DatabaseProbeRepository(stores.engine).pool_state().model_dump(),
        "redis": redis.pool_usage(stores.redis),
        "mongodb": {"open": stores.mongo_pool.open, "checked_out": stores.mongo_pool.checked_out},
        "cassandra": stores.cassandra.pool_usage(),
    }
