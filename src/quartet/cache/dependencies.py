from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.cache.repository import CacheAdminRepository
from quartet.cache.service import CacheService
from quartet.stores.cache import CacheDep
from quartet.stores.dependencies import RedisDep


async def get_cache_service(cache: CacheDep, redis: RedisDep) -> CacheService:
    return CacheService(cache, CacheAdminRepository(redis, cache.namespace))


CacheServiceDep = Annotated[CacheService, Depends(get_cache_service)]
