"""`CurrentUser` and `OptionalUser`: who is calling (privileged routes add
`quartet.rbac.dependencies.RequirePermission`).

A bearer token is read from `Authorization: Bearer` (access or session token) or from
`X-Session-Token`; with cookies on (`AUTH_TRANSPORT`), the `access_token` cookie is accepted
too, and an unsafe request it authenticates must pass the CSRF checks (`quartet.auth.csrf`).

The caller is ONE dependency (`get_principal` / `get_optional_principal`) that reads the
credential itself: FastAPI solves every node of a dependency tree on every request, so a chain
of security classes and sub-dependencies costs more than the check. It is the bearer scheme in
OpenAPI, with the session-header and cookie schemes declared beside it (for Swagger's
Authorize button) by two leaves that read nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, OAuth2PasswordBearer
from starlette.requests import HTTPConnection

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

SESSION_HEADER = "X-Session-Token"


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


async def get_auth_service(request: Request) -> AuthService:
    """One per app (every part of it is process-wide), made on first use; made again if the
    app's Redis client or sessionmaker was replaced (tests swap both)."""
    state = request.app.state
    stores = state.stores
    built: AuthService | None = getattr(state, "auth_service", None)
    if (
        built is not None
        and built.state.redis is stores.redis
        and built.transactions.sessionmaker is stores.sessionmaker
    ):
        return built
    security: AuthSecurity = state.security
    cache: Cache = state.cache
    built = state.auth_service = AuthService(
        stores.settings,
        security.hasher,
        security.tokens,
        AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX),
        request.app.state.activity_sessions,
        ProfileCache(cache),
        domain_events=state.domain_events,
        transactions=stores.transactions,
        links=EmailLinks(stores.settings, state.notifier),
    )
    return built


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
Meta = Annotated[ClientMeta, Depends(client_meta)]


def read_credential(request: Request) -> Credential | None:
    """The token the request presents in a transport that is on: `Authorization: Bearer`, else
    `X-Session-Token`, else (cookies on) the access cookie; a header beats a cookie."""
    transport: TokenTransport = request.app.state.security.transport
    headers = request.headers
    scheme, _, param = headers.get("authorization", "").partition(" ")
    header = param.strip() if scheme.lower() == "bearer" else None
    header = header or headers.get(SESSION_HEADER)
    cookie = request.cookies.get(ACCESS_COOKIE) if transport.cookies else None
    return transport.pick(header, cookie)


async def token_check_rider(request: Request, plan: RoutePlan) -> TokenCheck | None:
    """The token check for the request trip, on routes that authenticate (see
    `quartet.auth.request_state`)."""
    if get_principal not in plan.calls and get_optional_principal not in plan.calls:
        return None
    credential = read_credential(request)
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


_PRINCIPAL = "quartet.principal"


async def _authenticate(request: Request) -> Principal | None:
    """The caller, or None without a credential; worked out once per request."""
    if _PRINCIPAL in request.scope:
        known: Principal | None = request.scope[_PRINCIPAL]
        return known
    credential = read_credential(request)
    principal = None
    if credential is not None:
        service = await get_auth_service(request)
        checked = _checked(request, credential.token)
        if credential.from_cookie:
            transport: TokenTransport = request.app.state.security.transport
            bound_to = transport.csrf.session_of(request)  # checked before any store is asked
            principal = await service.authenticate(credential.token, checked)
            transport.csrf.check_binding(bound_to, principal.session_id)
        else:
            principal = await service.authenticate(credential.token, checked)
        note_user(principal.user_id)  # logs, metrics and Sentry events name the user
    request.scope[_PRINCIPAL] = principal
    return principal


class _DeclaredHeader(APIKeyHeader):
    """The `X-Session-Token` scheme in OpenAPI; the caller dependency reads the header."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


class _DeclaredCookie(APIKeyCookie):
    """The access-cookie scheme in OpenAPI; the caller dependency reads the cookie."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


_session_scheme = _DeclaredHeader(name=SESSION_HEADER, auto_error=False, scheme_name="SessionToken")
_cookie_scheme = _DeclaredCookie(name=ACCESS_COOKIE, auto_error=False, scheme_name="AccessCookie")


class _Caller(OAuth2PasswordBearer):
    """The caller as ONE dependency, shown in OpenAPI as the bearer scheme."""

    def __init__(self, *, required: bool) -> None:
        super().__init__(
            tokenUrl=f"{get_settings().API_V1_STR.lstrip('/')}/auth/token".lstrip("/"),
            auto_error=False,
            scheme_name="BearerToken",
        )
        self.required = required

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        _session: Annotated[None, Depends(_session_scheme)],
        _cookie: Annotated[None, Depends(_cookie_scheme)],
    ) -> Principal | None:
        principal = await _authenticate(request)
        if principal is None and self.required:
            raise UnauthorizedError()
        return principal


get_optional_principal = _Caller(required=False)
get_principal = _Caller(required=True)

CurrentUser = Annotated[Principal, Depends(get_principal)]
OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
AUTHENTICATION_ERRORS = (UnauthorizedError, InvalidTokenError, SessionIdleTimeoutError, CsrfError)
"""What a token (or cookie) check may answer: for the `responses=` of routers that need one."""
