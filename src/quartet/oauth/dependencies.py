from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.dependencies import AuthServiceDep
from quartet.oauth.providers import ProviderRegistry
from quartet.oauth.service import OAuthService
from quartet.oauth.state import OAuthStateRepository


async def get_oauth_service(request: Request, auth: AuthServiceDep) -> OAuthService:
    stores = request.app.state.stores
    registry: ProviderRegistry = request.app.state.oauth_providers
    return OAuthService(
        stores.settings,
        registry,
        OAuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        auth,
    )


OAuthServiceDep = Annotated[OAuthService, Depends(get_oauth_service)]
