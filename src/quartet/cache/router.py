"""`/cache`: superuser-only status, clear and single-key delete of the cache namespace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from quartet.auth.dependencies import CurrentSuperuser
from quartet.cache.dependencies import CacheServiceDep
from quartet.cache.schemas import CacheStatus, ClearedOut
from quartet.core.errors import (
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
    responses,
)

MAX_KEY_LENGTH = 512

router = APIRouter(
    prefix="/cache",
    tags=["cache"],
    responses=responses(UnauthorizedError, ForbiddenError),
)


@router.get("/status", response_model=CacheStatus)
async def cache_status(_: CurrentSuperuser, service: CacheServiceDep) -> CacheStatus:
    return await service.status()


@router.post("/clear", response_model=ClearedOut, summary="Remove every key of the cache only")
async def clear_cache(_: CurrentSuperuser, service: CacheServiceDep) -> ClearedOut:
    return await service.clear()


@router.delete(
    "/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(NotFoundError, ValidationFailedError),
    summary="Remove one key, given in full, inside the cache namespace",
)
async def delete_cache_key(
    key: Annotated[str, Path(min_length=1, max_length=MAX_KEY_LENGTH)],
    _: CurrentSuperuser,
    service: CacheServiceDep,
) -> None:
    await service.delete(key)
