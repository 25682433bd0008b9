"""`/oauth/*` (the browser redirect flow and the code exchange) and `/auth/identities`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Path, Query, Request, status
from fastapi.responses import RedirectResponse

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, Meta
from quartet.auth.schemas import TokenResponse
from quartet.auth.transport import TokenDeliveryDep
from quartet.core.errors import NotFoundError, responses
from quartet.core.rate_limit import auth_limited_router
from quartet.oauth.dependencies import OAuthServiceDep
from quartet.oauth.errors import (
    InvalidExchangeCodeError,
    LastLoginMethodError,
    RedirectNotAllowedError,
    UnknownProviderError,
)
from quartet.oauth.schemas import ExchangeIn, IdentityOut, ProviderOut
from quartet.oauth.service import CallbackParams
from quartet.settings import Settings
from quartet.stores.dependencies import DbSession, TransactionRunnerDep

router = APIRouter(prefix="/oauth", tags=["oauth"])
limited = auth_limited_router()
identities_router = APIRouter(
    prefix="/auth/identities", tags=["auth"], responses=responses(*AUTHENTICATION_ERRORS)
)

BROWSER_COOKIE = "quartet_oauth"
ProviderName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
# Providers add their own parameters to the callback (scope, authuser, session_state, ...),
# so it cannot refuse unknown ones; each one read is capped.
CallbackValue = Annotated[str | None, Query(max_length=2048)]


def _cookie_scope(settings: Settings) -> dict[str, Any]:
    """Where the browser cookie is sent (the OAuth routes only) and how: setting and deleting it
    must name the same, or the browser keeps the old one."""
    return {"path": f"{settings.API_V1_STR}/oauth/", "httponly": True, "samesite": "lax"}


def _no_store(response: RedirectResponse) -> RedirectResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/providers")
async def providers(service: OAuthServiceDep) -> list[ProviderOut]:
    """The configured providers only (client id and secret set)."""
    return service.list_providers()


@limited.get(
    "/{provider}/initiate",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(UnknownProviderError, RedirectNotAllowedError),
)
async def initiate(
    provider: ProviderName,
    request: Request,
    service: OAuthServiceDep,
    redirect_to: Annotated[str | None, Query(max_length=2048)] = None,
) -> RedirectResponse:
    """Send the browser to the provider; sets the httpOnly SameSite=Lax cookie that the
    callback must come back with."""
    settings = service.settings
    base = settings.OAUTH_CALLBACK_BASE_URL
    callback_path = request.app.url_path_for("oauth_callback", provider=provider)
    callback_url = (
        base.rstrip("/") + callback_path
        if base
        else str(request.url_for("oauth_callback", provider=provider))
    )
    redirect = await service.initiate(provider, redirect_to, callback_url)
    response = _no_store(RedirectResponse(redirect.url, status_code=status.HTTP_302_FOUND))
    if redirect.browser_secret:
        response.set_cookie(
            BROWSER_COOKIE,
            redirect.browser_secret,
            max_age=settings.OAUTH_STATE_TTL_SECONDS,
            secure=settings.ENVIRONMENT == "production",
            **_cookie_scope(settings),
        )
    return response


@limited.get(
    "/{provider}/callback",
    name="oauth_callback",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
)
async def callback(
    provider: ProviderName,
    service: OAuthServiceDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    code: CallbackValue = None,
    state: CallbackValue = None,
    error: CallbackValue = None,
    iss: CallbackValue = None,
    browser_secret: Annotated[str | None, Cookie(alias=BROWSER_COOKIE, max_length=128)] = None,
) -> RedirectResponse:
    """Where the provider sends the browser back. Always answers 303 to the SPA: with
    `?code=` (a one-time code for `POST /oauth/exchange`) or `?error=`."""
    params = CallbackParams(code=code, state=state, error=error, issuer=iss)
    target = await service.callback(tx, provider, params, browser_secret, meta)
    response = _no_store(RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER))
    response.delete_cookie(BROWSER_COOKIE, **_cookie_scope(service.settings))
    return response


@limited.post("/exchange", responses=responses(InvalidExchangeCodeError))
async def exchange(
    body: ExchangeIn,
    service: OAuthServiceDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
) -> TokenResponse:
    """The one-time code from the callback for the same token triple (and, with cookie
    transport, the same cookies) as `POST /auth/login`."""
    return issue.send(await service.exchange(tx, body.code, meta))


@identities_router.get("")
async def identities(
    user: CurrentUser, service: OAuthServiceDep, db: DbSession
) -> list[IdentityOut]:
    """The login providers linked to the signed-in account."""
    return await service.identities(db, user)


@identities_router.delete(
    "/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(NotFoundError, LastLoginMethodError),
)
async def unlink(
    provider: ProviderName, user: CurrentUser, service: OAuthServiceDep, db: DbSession, meta: Meta
) -> None:
    """Unlinks a provider; the account's only way to log in cannot be removed (409)."""
    await service.unlink(db, user, provider, meta)


router.include_router(limited)
