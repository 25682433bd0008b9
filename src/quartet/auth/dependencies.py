"""`CurrentUser` and `OptionalUser`: who is calling (privileged routes add
`quartet.rbac.dependencies.RequirePermission`).

A bearer token is read from `Authorization: Bearer` (access or session token) or from
`X-Session-Token`; both are declared so Swagger's Authorize button works. With cookies on
(`AUTH_TRANSPORT`), the `access_token` cookie is accepted too, and an unsafe request it
authenticates must pass the CSRF checks (`quartet.auth.csrf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, OAuth2PasswordBearer

from quartet.auth.csrf import CsrfError
from quartet.auth.errors import InvalidTokenError, SessionIdleTimeoutError
from quartet.auth.request_state import TokenCheck
from quartet.auth.service import AuthService
from quartet.auth.state_repository import AuthStateRepository, TokenState
from quartet.auth.tokens import BearerClaims, Principal, TokenService
from quartet.auth.transport import ACCESS_COOKIE, Credential, TokenTransport
from quartet.core.client import ClientMeta, client_meta
from quartet.core.errors import AppError, UnauthorizedError
from quartet.core.request_context import note_user
from quartet.core.request_trip import RoutePlan, current_trip
from quartet.core.security import PasswordHasher
from quartet.settings import Settings, get_settings
from quartet.stores.cache import Cache
from quartet.users.cache import ProfileCache
from quartet.verification.links import EmailLinks

_bearer = OAuth2PasswordBearer(
    tokenUrl=f"{get_settings().API_V1_STR.lstrip('/')}/auth/token".lstrip("/"),
    auto_error=False,
    scheme_name="BearerToken",
)
_session_header = APIKeyHeader(name="X-Session-Token", auto_error=False, scheme_name="SessionToken")
_access_cookie = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False, scheme_name="AccessCookie")


@dataclass(frozen=True)
class AuthSecurity:
    """Process-wide password hasher (its bounded thread pool), token service and transport."""

    hasher: PasswordHasher
    tokens: TokenService
    transport: TokenTransport

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthSecurity:
        return cls(
            PasswordHasher(settings.BCRYPT_ROUNDS, settings.PASSWORD_HASH_WORKERS),
            TokenService(settings),
            TokenTransport(settings),
        )


_SERVICE = "quartet.auth_service"


async def get_auth_service(request: Request) -> AuthService:
    """One per request (the token check of the request trip and the route share it)."""
    built: AuthService | None = request.scope.get(_SERVICE)
    if built is not None:
        return built
    security: AuthSecurity = request.app.state.security
    stores = request.app.state.stores
    cache: Cache = request.app.state.cache
    built = request.scope[_SERVICE] = AuthService(
        stores.settings,
        security.hasher,
        security.tokens,
        AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        request.app.state.activity_sessions,
        ProfileCache(cache),
        domain_events=request.app.state.domain_events,
        transactions=stores.transactions,
        links=EmailLinks(stores.settings, request.app.state.notifier),
    )
    return built


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
Meta = Annotated[ClientMeta, Depends(client_meta)]


async def _credential(
    request: Request,
    bearer: Annotated[str | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_session_header)],
    access_cookie: Annotated[str | None, Depends(_access_cookie)],
) -> Credential | None:
    transport: TokenTransport = request.app.state.security.transport
    return transport.pick(bearer or session_token, access_cookie)


async def read_credential(request: Request) -> Credential | None:
    """`_credential` outside the dependency machinery (for the request trip's token check)."""
    return await _credential(
        request,
        await _bearer(request),
        await _session_header(request),
        await _access_cookie(request),
    )


async def token_check_rider(request: Request, plan: RoutePlan) -> TokenCheck | None:
    """The token check for the request trip, on routes that authenticate (see
    `quartet.auth.request_state`)."""
    if get_optional_principal not in plan.calls:
        return None
    credential = await read_credential(request)
    if credential is None:
        return None
    service = await get_auth_service(request)
    try:
        if credential.from_cookie:
            request.app.state.security.transport.csrf.session_of(request)
        claims = service.bearer_claims(credential.token)
    except AppError:
        return None  # refused by the principal dependency, which checks again
    names = [name(claims.user_id) for name in plan.marked("caller_cache")]
    return TokenCheck(credential.token, claims, service, names)


def _checked(request: Request, token: str) -> tuple[BearerClaims, TokenState] | None:
    trip = current_trip(request)
    check = trip.rider(TokenCheck) if trip is not None else None
    return check.checked(token) if check is not None else None


async def get_optional_principal(
    request: Request,
    service: AuthServiceDep,
    credential: Annotated[Credential | None, Depends(_credential)],
) -> Principal | None:
    if credential is None:
        return None
    checked = _checked(request, credential.token)
    if credential.from_cookie:
        transport: TokenTransport = request.app.state.security.transport
        bound_to = transport.csrf.session_of(request)  # checked before any store is asked
        principal = await service.authenticate(credential.token, checked)
        transport.csrf.check_binding(bound_to, principal.session_id)
    else:
        principal = await service.authenticate(credential.token, checked)
    note_user(principal.user_id)  # logs, metrics and Sentry events name the user
    return principal


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError()
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]
OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
AUTHENTICATION_ERRORS = (UnauthorizedError, InvalidTokenError, SessionIdleTimeoutError, CsrfError)
"""What a token (or cookie) check may answer: for the `responses=` of routers that need one."""
