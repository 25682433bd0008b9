"""CSRF defence for requests authenticated by a cookie: a double-submit token bound to the
session, and an `Origin` listed in `BACKEND_CORS_ORIGINS`.

The SPA reads the `csrf_token` cookie (not httpOnly) and echoes it in `X-CSRF-Token` on every
unsafe request. A page on another origin can neither read that cookie nor, CORS refusing its
preflight, send that header. The token is `<session id>.<nonce>.<HMAC(key, session id.nonce)>`,
so a cookie planted by a sibling host (cookie tossing) is worthless unless it was minted for the
very session the request's cookie authenticates. Bearer requests need none of this: a browser
never attaches an `Authorization` header on its own.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable

from starlette.requests import Request

from quartet.core.errors import ForbiddenError
from quartet.core.security import derive_key, keyed_digest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CsrfError(ForbiddenError):
    code, message = "csrf_failed", "Missing or invalid CSRF token or Origin"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class CsrfGuard:
    def __init__(self, secret: str, allowed_origins: Iterable[str]) -> None:
        self._key = derive_key(secret, "quartet.csrf")
        self._origins = frozenset(o for o in allowed_origins if o != "*")

    def token_for(self, session_id: uuid.UUID) -> str:
        body = f"{session_id.hex}.{secrets.token_urlsafe(16)}"
        return f"{body}.{keyed_digest(self._key, body)}"

    def session_of(self, request: Request) -> uuid.UUID | None:
        """The session an unsafe request's CSRF token is bound to, once its Origin and double
        submit are checked (`CsrfError` otherwise); None for a safe method, which needs none."""
        if request.method in SAFE_METHODS:
            return None
        if request.headers.get("origin") not in self._origins:
            raise CsrfError("Origin is not an allowed SPA origin")
        header = request.headers.get(CSRF_HEADER)
        cookie = request.cookies.get(CSRF_COOKIE)
        if not header or not cookie or not _same(header, cookie):
            raise CsrfError(f"{CSRF_HEADER} must echo the {CSRF_COOKIE} cookie")
        session_hex, _, rest = header.partition(".")
        nonce, _, signature = rest.partition(".")
        expected = keyed_digest(self._key, f"{session_hex}.{nonce}")
        try:
            session_id = uuid.UUID(hex=session_hex)
        except ValueError:
            session_id = None
        if session_id is None or not _same(signature, expected):
            raise CsrfError("Invalid CSRF token")
        return session_id

    @staticmethod
    def check_binding(bound_to: uuid.UUID | None, session_id: uuid.UUID) -> None:
        """A CSRF token minted for another session is refused (cookie tossing)."""
        if bound_to is not None and bound_to != session_id:
            raise CsrfError("CSRF token belongs to another session")
