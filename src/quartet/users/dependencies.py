"""`UserAdminServiceDep` for the user administration routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.state_repository import AuthStateRepository
from quartet.erasure.service import ErasureService
from quartet.users.cache import ProfileCache
from quartet.users.service import UserAdminService


async def get_user_admin_service(request: Request) -> UserAdminService:
    stores = request.app.state.stores
    return UserAdminService(
        stores.transactions,
        AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        ProfileCache(request.app.state.cache),
        ErasureService(stores, request.app.state.cache),
    )


UserAdminServiceDep = Annotated[UserAdminService, Depends(get_user_admin_service)]
