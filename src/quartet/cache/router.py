"""`/cache`: status (cache.read), clear and single-key delete (cache.clear) of the cache
namespace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from quartet.cache.dependencies import CacheServiceDep
from quartet.cache.permissions import CACHE_CLEAR, CACHE_READ
from quartet.cache.schemas import CacheStatus, ClearedOut
from quartet.core.errors import NotFoundError, ValidationFailedError, responses
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission

MAX_KEY_LENGTH = 512

router = APIRouter(prefix="/cache", tags=["cache"], responses=responses(*PERMISSION_ERRORS))


@router.get("/status", dependencies=[RequirePermission(CACHE_READ)])
async def cache_status(service: CacheServiceDep) -> CacheStatus:
    """Redis's version, uptime, memory use and server-wide hit and miss counts."""
    return await service.status()


@router.post(
    "/clear",
    dependencies=[RequirePermission(CACHE_CLEAR)],
    summary="Remove every key of the cache only",
)
async def clear_cache(service: CacheServiceDep) -> ClearedOut:
    """Deletes the cache's own keys; sessions, tokens and rate limits are kept."""
    return await service.clear()


@router.delete(
    "/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(NotFoundError, ValidationFailedError),
    dependencies=[RequirePermission(CACHE_CLEAR)],
    summary="Remove one key, given in full, inside the cache namespace",
)
async def delete_cache_key(
    key: Annotated[str, Path(min_length=1, max_length=MAX_KEY_LENGTH)],
    service: CacheServiceDep,
) -> None:
    """Deletes one cache key; a key outside the namespace or with a glob character is a 422, a
    missing one a 404."""
    await service.delete(key)
