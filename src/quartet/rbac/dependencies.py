"""`RequirePermission(...)`, the guard of every privileged route, and `RbacServiceDep`.

    @router.post("/clear", dependencies=[RequirePermission(CACHE_CLEAR)])
    async def clear(caller: Annotated[Principal, RequirePermission(POSTS_MODERATE)]) -> ...

The caller must hold every codename given (a superuser holds them all); otherwise 403
`permission_denied` naming the first one missing. The permissions come with the principal
(`quartet.auth.service.AuthService.authenticate`): checking costs no PostgreSQL query.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, get_principal
from quartet.auth.state_repository import AuthStateRepository
from quartet.auth.tokens import Principal
from quartet.rbac.errors import PermissionDeniedError
from quartet.rbac.service import RbacService
from quartet.stores.dependencies import StoresDep


def RequirePermission(*codenames: str) -> Any:
    """A dependency that returns the `Principal` once it holds every one of `codenames`."""

    async def require(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        missing = principal.lacking(codenames)
        if missing is not None:
            raise PermissionDeniedError(missing)
        return principal

    return Depends(require)


PERMISSION_ERRORS = (*AUTHENTICATION_ERRORS, PermissionDeniedError)
"""The errors a guarded route may answer before its own: no valid caller, or a missing codename."""


async def get_rbac_service(stores: StoresDep) -> RbacService:
    state = AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX)
    return RbacService(stores.transactions, state)


RbacServiceDep = Annotated[RbacService, Depends(get_rbac_service)]
