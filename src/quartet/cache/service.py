"""Cache management rules: everything stays inside the cache namespace."""

from __future__ import annotations

from quartet.cache.repository import CacheAdminRepository
from quartet.cache.schemas import CacheStatus, ClearedOut, ProcessCounters
from quartet.core.errors import NotFoundError, ValidationFailedError
from quartet.stores.cache import Cache

WILDCARDS = frozenset("*?[]")


class CacheService:
    def __init__(self, cache: Cache, repository: CacheAdminRepository) -> None:
        self.cache = cache
        self.repository = repository

    async def status(self) -> CacheStatus:
        info = await self.repository.server_info()
        counters = self.cache.counters
        return CacheStatus(
            **vars(info),
            namespace=self.cache.namespace,
            keys=await self.repository.count(),
            this_process=ProcessCounters(
                hits=counters.hits,
                misses=counters.misses,
                errors=counters.errors,
                failing=self.cache.failing,
            ),
        )

    async def clear(self) -> ClearedOut:
        return ClearedOut(deleted=await self.repository.clear())

    async def delete(self, key: str) -> None:
        """`key` is a full Redis key; only one inside the namespace, named literally."""
        namespace = self.cache.namespace
        if not key.startswith(namespace) or key == namespace:
            raise ValidationFailedError(f"Only keys under {namespace} can be deleted here")
        if WILDCARDS.intersection(key[len(namespace) :]):
            raise ValidationFailedError("A cache key may not contain * ? [ or ]")
        if not await self.repository.delete(key):
            raise NotFoundError("No such cache key")
