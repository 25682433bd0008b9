"""The user-administration service, built per request over the app's stores and caches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.state_repository import AuthStateRepository
from quartet.erasure.dependencies import ErasureServiceDep
from quartet.stores.dependencies import StoresDep
from quartet.users.cache import ProfileCache
from quartet.users.service import UserAdminService


async def get_user_admin_service(
    request: Request, stores: StoresDep, erasure: ErasureServiceDep
) -> UserAdminService:
    return UserAdminService(
        stores.transactions,
        AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        ProfileCache(request.app.state.cache),
        erasure,
    )


UserAdminServiceDep = Annotated[UserAdminService, Depends(get_user_admin_service)]
