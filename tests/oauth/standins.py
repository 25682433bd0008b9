"""Local stand-ins for remote providers, checking what the real ones would receive.

- `OidcStandIn`: an OpenID Connect provider (discovery, JWKS, authorize, token) whose ID tokens
  can be spoiled on purpose (`IdTokenFaults`) to prove each refusal. Its authorize endpoint
  consents at once, so tests drive it without a browser.
- `GitHubStandIn`: GitHub's OAuth app endpoints (an authorize page with Authorize / Cancel
  buttons, the access-token endpoint) and the REST API's `/user` and `/user/emails`.

Both check the client credentials, the redirect URI and the PKCE S256 verifier, and accept each
authorization code once.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "quartet-test-client"
CLIENT_SECRET = "quartet-test-secret-0123456789"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _redirect(uri: str, **params: str) -> RedirectResponse:
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{separator}{urlencode(params)}", status_code=302)


@dataclass
class Grant:
    """An authorization code's context, as the provider recorded it."""

    redirect_uri: str
    code_challenge: str
    nonce: str | None
    subject: str


@dataclass
class IdTokenFaults:
    nonce: str | None = None
    audience: str | None = None
    expires_in: int = 300
    foreign_key: bool = False


@dataclass
class OidcUser:
    sub: str
    email: str | None
    email_verified: bool = True
    name: str = "Ada Lovelace"


class OidcStandIn:
    def __init__(self) -> None:
        self.base_url = ""
        self.key = RSAKey.generate_key(2048, parameters={"kid": "signing-1"})
        # same key id, other key: a token signed with it must fail the signature check
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "signing-1"})
        self.user = OidcUser(sub="sub-1", email=None)
        self.faults = IdTokenFaults()
        self.grants: dict[str, Grant] = {}
        self.authorize_requests: list[dict[str, str]] = []

    def reset(self, user: OidcUser) -> None:
        self.user, self.faults = user, IdTokenFaults()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.base_url,
                "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token",
                "jwks_uri": f"{self.base_url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.authorize_requests.append(query)
        checks = (
            query.get("client_id") == CLIENT_ID,
            query.get("response_type") == "code",
            query.get("code_challenge_method") == "S256",
            "openid" in query.get("scope", "").split(),
            bool(query.get("state")) and bool(query.get("redirect_uri")),
        )
        if not all(checks):
            return HTMLResponse("invalid authorization request", status_code=400)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            query["redirect_uri"], query["code_challenge"], query.get("nonce"), self.user.sub
        )
        return _redirect(query["redirect_uri"], code=code, state=query["state"])

    async def token(self, request: Request) -> Response:
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code")), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
            or s256(str(form.get("code_verifier", ""))) != grant.code_challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": self.id_token(grant),
            }
        )

    def id_token(self, grant: Grant) -> str:
        now, faults, user = int(time.time()), self.faults, self.user
        claims: dict[str, Any] = {
            "iss": self.base_url,
            "sub": grant.subject,
            "aud": faults.audience or CLIENT_ID,
            "iat": now - 600 if faults.expires_in < 0 else now,
            "exp": now + faults.expires_in,
            "nonce": faults.nonce or grant.nonce,
            "email_verified": user.email_verified,
            "name": user.name,
        }
        if user.email:
            claims["email"] = user.email
        key = self.foreign_key if faults.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "signing-1"}, claims, key)


@dataclass
class GitHubUser:
    id: int
    login: str
    emails: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = "Octo Cat"


class GitHubStandIn:
    def __init__(self) -> None:
        self.base_url = ""
        self.user = GitHubUser(id=1, login="octo")
        self.pending: dict[str, dict[str, str]] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: set[str] = set()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login/oauth/authorize", self.authorize),
                Route("/login/oauth/authorize/decide", self.decide, methods=["POST"]),
                Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
                Route("/api/user", self.api_user),
                Route("/api/user/emails", self.api_emails),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        checks = (
            query.get("client_id") == CLIENT_ID,
            query.get("code_challenge_method") == "S256",
            "user:email" in query.get("scope", "").split(),
            bool(query.get("state")) and bool(query.get("redirect_uri")),
        )
        if not all(checks):
            return HTMLResponse("invalid authorization request", status_code=400)
        request_id = secrets.token_urlsafe(12)
        self.pending[request_id] = query
        return HTMLResponse(
            "<!doctype html><title>Authorize application</title>"
            f"<h1>Authorize Quartet</h1><p>Signed in as <b>{html.escape(self.user.login)}</b></p>"
            '<form method="post" action="/login/oauth/authorize/decide">'
            f'<input type="hidden" name="request" value="{request_id}">'
            '<button id="authorize" name="decision" value="allow">Authorize</button> '
            '<button id="cancel" name="decision" value="deny">Cancel</button></form>'
        )

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        query = self.pending.pop(str(form.get("request")), None)
        if query is None:
            return HTMLResponse("unknown request", status_code=400)
        if form.get("decision") != "allow":
            return _redirect(query["redirect_uri"], error="access_denied", state=query["state"])
        code = secrets.token_urlsafe(20)
        self.grants[code] = Grant(
            query["redirect_uri"], query["code_challenge"], None, str(self.user.id)
        )
        return _redirect(query["redirect_uri"], code=code, state=query["state"])

    async def access_token(self, request: Request) -> Response:
        """GitHub answers 200 with an `error` field, and JSON only when asked for it."""
        if request.headers.get("accept") != "application/json":
            return Response("access_token=only-json-here", media_type="text/plain")
        form = await request.form()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "incorrect_client_credentials"})
        grant = self.grants.pop(str(form.get("code")), None)
        if (
            grant is None
            or form.get("redirect_uri") != grant.redirect_uri
            or s256(str(form.get("code_verifier", ""))) != grant.code_challenge
        ):
            return JSONResponse({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": "user:email"})

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "token") and token in self.tokens

    async def api_user(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        user = self.user
        return JSONResponse({"id": user.id, "login": user.login, "name": user.name})

    async def api_emails(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(self.user.emails)
