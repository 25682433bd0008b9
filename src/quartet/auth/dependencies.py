"""`CurrentUser`, `CurrentSuperuser` and `OptionalUser`: the aliases every feature authorises with.

A bearer token is read from `Authorization: Bearer` (access or session token) or from
`X-Session-Token`; both are declared so Swagger's Authorize button works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from quartet.auth.service import AuthService
from quartet.auth.state import AuthStateRepository
from quartet.auth.tokens import Principal, TokenService
from quartet.core.cache import Cache
from quartet.core.client import ClientMeta, client_meta
from quartet.core.errors import ForbiddenError, UnauthorizedError
from quartet.core.security import PasswordHasher
from quartet.sessions.repository import SessionManager
from quartet.settings import Settings, get_settings
from quartet.users.cache import ProfileCache
from quartet.verification.links import EmailLinks

_bearer = OAuth2PasswordBearer(
    tokenUrl=f"{get_settings().API_V1_STR.lstrip('/')}/auth/token".lstrip("/"),
    auto_error=False,
    scheme_name="BearerToken",
)
_session_header = APIKeyHeader(name="X-Session-Token", auto_error=False, scheme_name="SessionToken")


@dataclass(frozen=True)
class AuthSecurity:
    """Process-wide password hasher (its bounded thread pool) and token service."""

    hasher: PasswordHasher
    tokens: TokenService

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthSecurity:
        return cls(
            PasswordHasher(settings.BCRYPT_ROUNDS, settings.PASSWORD_HASH_WORKERS),
            TokenService(settings),
        )


async def get_auth_service(request: Request) -> AuthService:
    security: AuthSecurity = request.app.state.security
    stores = request.app.state.stores
    cache: Cache = request.app.state.cache
    return AuthService(
        stores.settings,
        security.hasher,
        security.tokens,
        AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        SessionManager.from_settings(stores.redis, stores.settings),
        ProfileCache(cache),
        activity_log=request.app.state.activity,
        links=EmailLinks(stores.settings, request.app.state.notifier),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
Meta = Annotated[ClientMeta, Depends(client_meta)]


async def _token(
    bearer: Annotated[str | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_session_header)],
) -> str | None:
    return bearer or session_token


async def get_optional_principal(
    service: AuthServiceDep, token: Annotated[str | None, Depends(_token)]
) -> Principal | None:
    if not token:
        return None
    return await service.authenticate(token)


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError()
    return principal


async def get_superuser(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_superuser:
        raise ForbiddenError("Superuser access required")
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]
CurrentSuperuser = Annotated[Principal, Depends(get_superuser)]
OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
