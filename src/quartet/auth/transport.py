"""Where tokens travel, by `AUTH_TRANSPORT`:

- `bearer`: tokens in JSON bodies, presented in `Authorization: Bearer` / `X-Session-Token`
  (and a refresh token in the refresh body); cookies are neither set nor read.
- `cookie`: httpOnly cookies only. No token ever appears in a body JavaScript could read, and
  headers are not read; unsafe methods need the CSRF double submit (`quartet.auth.csrf`).
- `both`: each request is answered in the transport it used. A header beats a cookie; token
  responses carry the body and set the cookies, except a refresh made with the refresh cookie,
  whose new tokens go to cookies only (else any script on the page could trade the cookie for a
  readable refresh token).

Cookies: `access_token` (httpOnly, path `API_V1_STR`, lives as long as the access token),
`refresh_token` (httpOnly, path `<API_V1_STR>/auth/refresh`, so it travels to nothing else) and
`csrf_token` (readable, path `/`, optional `CSRF_COOKIE_DOMAIN`), all `SameSite=Lax` and `Secure`
unless `AUTH_COOKIE_SECURE=false` (local http development).

Every route that issues tokens returns `issue.send(tokens)` through the `TokenDeliveryDep`
dependency: the one place their cookies are written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Request, Response

from quartet.auth.csrf import CSRF_COOKIE, CsrfGuard
from quartet.auth.errors import InvalidRefreshTokenError
from quartet.auth.schemas import TokenResponse
from quartet.settings import Settings

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
_NO_TOKENS = {"access_token": None, "session_token": None, "refresh_token": None}


@dataclass(frozen=True)
class Credential:
    """A token a request presents, and whether it came in a cookie (then CSRF applies)."""

    token: str
    from_cookie: bool


@dataclass(frozen=True)
class PresentedRefresh(Credential):
    csrf_session: uuid.UUID | None
    """The session a cookie refresh's CSRF token is bound to: only that one may be refreshed."""

    @property
    def in_body(self) -> bool:
        """Answer with tokens in the body: the refresh token came in the body, not a cookie."""
        return not self.from_cookie


@dataclass(frozen=True)
class _CookieSpec:
    name: str
    path: str
    max_age: int
    httponly: bool = True
    domain: str | None = None


class TokenTransport:
    """The transport settings, fixed at start-up (held by `AuthSecurity`)."""

    def __init__(self, settings: Settings) -> None:
        self.headers = settings.AUTH_TRANSPORT != "cookie"
        self.cookies = settings.AUTH_TRANSPORT != "bearer"
        self.secure = settings.AUTH_COOKIE_SECURE
        self.csrf = CsrfGuard(settings.SECRET_KEY.get_secret_value(), settings.BACKEND_CORS_ORIGINS)
        refresh_max_age = settings.REFRESH_TOKEN_EXPIRE_DAYS * 86_400
        self._access = _CookieSpec(
            ACCESS_COOKIE, settings.API_V1_STR or "/", settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
        )
        self._refresh = _CookieSpec(
            REFRESH_COOKIE, f"{settings.API_V1_STR}/auth/refresh", refresh_max_age
        )
        # Readable by the SPA (it echoes it in X-CSRF-Token), so on path / of its domain.
        self._csrf = _CookieSpec(
            CSRF_COOKIE, "/", refresh_max_age, httponly=False, domain=settings.CSRF_COOKIE_DOMAIN
        )

    def pick(self, header: str | None, cookie: str | None) -> Credential | None:
        """The credential presented in a transport that is on; a header beats a cookie."""
        if header and self.headers:
            return Credential(header, from_cookie=False)
        if cookie and self.cookies:
            return Credential(cookie, from_cookie=True)
        return None

    def write(self, response: Response, tokens: TokenResponse, *, in_body: bool) -> TokenResponse:
        """Set the cookies (when on) and return the body to send: the tokens only when headers
        are on and the client presented its credential outside cookies."""
        if self.cookies:
            # the service always issues both; only this method ever blanks them
            assert tokens.access_token is not None
            assert tokens.refresh_token is not None
            for spec, value in (
                (self._access, tokens.access_token),
                (self._refresh, tokens.refresh_token),
                (self._csrf, self.csrf.token_for(tokens.session_id)),
            ):
                response.set_cookie(
                    spec.name,
                    value,
                    max_age=spec.max_age,
                    path=spec.path,
                    domain=spec.domain,
                    secure=self.secure,
                    httponly=spec.httponly,
                    samesite="lax",
                )
        if self.headers and in_body:
            return tokens
        return tokens.model_copy(update=_NO_TOKENS)

    def clear(self, response: Response) -> None:
        if not self.cookies:
            return
        for spec in (self._access, self._refresh, self._csrf):
            response.delete_cookie(
                spec.name,
                path=spec.path,
                domain=spec.domain,
                secure=self.secure,
                httponly=spec.httponly,
                samesite="lax",
            )


class TokenDelivery:
    """This request's side of the transport: writes issued tokens to its response."""

    def __init__(self, transport: TokenTransport, request: Request, response: Response) -> None:
        self.transport = transport
        self.request = request
        self.response = response

    def send(self, tokens: TokenResponse, *, in_body: bool = True) -> TokenResponse:
        """What a token-issuing route returns: `return issue.send(tokens)`."""
        return self.transport.write(self.response, tokens, in_body=in_body)

    def clear(self) -> None:
        """Expire the token cookies (logout)."""
        self.transport.clear(self.response)

    def refresh_credential(self, body_token: str | None, cookie: str | None) -> PresentedRefresh:
        """The refresh token presented (the body beats the cookie); a cookie one must pass the
        CSRF checks first, and confines the refresh to the session its CSRF token names."""
        credential = self.transport.pick(body_token, cookie)
        if credential is None:
            raise InvalidRefreshTokenError()
        if not credential.from_cookie:
            return PresentedRefresh(credential.token, from_cookie=False, csrf_session=None)
        return PresentedRefresh(
            credential.token,
            from_cookie=True,
            csrf_session=self.transport.csrf.session_of(self.request),
        )


async def get_token_delivery(request: Request, response: Response) -> TokenDelivery:
    transport: TokenTransport = request.app.state.security.transport
    return TokenDelivery(transport, request, response)


TokenDeliveryDep = Annotated[TokenDelivery, Depends(get_token_delivery)]
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, min_length=16, max_length=128)]
