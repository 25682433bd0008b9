"""The login providers, spoken to with authlib: the authorization URL (state, PKCE S256,
nonce), the code exchange, and who the person is (a verified ID token for OpenID Connect,
`/user` and `/user/emails` for GitHub). `ProviderRegistry` holds the configured ones."""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from quartet.oauth import errors
from quartet.oauth.errors import OAuthFlowError
from quartet.settings import OAuthClientSettings, Settings

logger = logging.getLogger(__name__)

PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
# Asymmetric algorithms only: an ID token MAC'd with the client secret (HS*) or unsigned
# ("none") is never accepted.
_ID_TOKEN_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_METADATA_TTL_SECONDS = 3600.0
_CLOCK_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class ProviderProfile:
    """Who the provider says logged in. `email_verified` is the provider's own statement."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True)
class AuthorizationRequest:
    state: str
    code_verifier: str
    nonce: str | None
    redirect_uri: str


class OAuthProvider(ABC):
    display_name: str
    scope: ClassVar[str]
    uses_nonce: ClassVar[bool]

    def __init__(self, name: str, client: OAuthClientSettings, timeout: float) -> None:
        self.name = name
        self.client = client
        self.timeout = timeout

    def _session(self, redirect_uri: str, **kwargs: Any) -> Any:
        return AsyncOAuth2Client(
            client_id=self.client.client_id,
            client_secret=self.client.client_secret.get_secret_value(),
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
            **kwargs,
        )

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        endpoint = await self._authorization_endpoint()
        extra = {"nonce": request.nonce} if request.nonce else {}
        async with self._session(request.redirect_uri) as session:
            url, _ = session.create_authorization_url(
                endpoint, state=request.state, code_verifier=request.code_verifier, **extra
            )
        return str(url)

    async def fetch_profile(self, code: str, request: AuthorizationRequest) -> ProviderProfile:
        """Exchange the code (with the PKCE verifier) and identify the person; every failure
        becomes an OAuthFlowError with a code the SPA can show."""
        try:
            return await self._fetch_profile(code, request)
        except OAuthFlowError:
            raise
        except httpx2.TransportError as error:
            logger.warning("oauth %s unreachable: %s", self.name, type(error).__name__)
            raise OAuthFlowError(errors.PROVIDER_UNAVAILABLE) from error
        except JoseError as error:
            logger.warning("oauth %s: ID token refused (%s)", self.name, error.error)
            raise OAuthFlowError(errors.INVALID_ID_TOKEN) from error
        except (OAuthError, httpx2.HTTPStatusError, ValueError, KeyError, TypeError) as error:
            logger.warning("oauth %s: unusable answer (%s)", self.name, type(error).__name__)
            raise OAuthFlowError(errors.PROVIDER_ERROR) from error

    def accepts_issuer(self, issuer: str) -> bool:
        """RFC 9207: an `iss` on the callback must be this provider's (mix-up defence). A plain
        OAuth provider has no issuer identifier to compare."""
        return True

    @abstractmethod
    async def _authorization_endpoint(self) -> str: ...

    @abstractmethod
    async def _fetch_profile(self, code: str, request: AuthorizationRequest) -> ProviderProfile: ...


class OidcProvider(OAuthProvider):
    """Any OpenID Connect provider, configured by its issuer through discovery."""

    scope = "openid email profile"
    uses_nonce = True

    def __init__(
        self,
        name: str,
        client: OAuthClientSettings,
        timeout: float,
        *,
        issuer: str,
        display_name: str,
        also_issued_as: tuple[str, ...] = (),
    ) -> None:
        super().__init__(name, client, timeout)
        self.issuer = issuer
        self.issuers = (issuer, *also_issued_as)
        self.display_name = display_name
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._jwks: dict[str, Any] | None = None

    def accepts_issuer(self, issuer: str) -> bool:
        return issuer in self.issuers

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with httpx2.AsyncClient(timeout=self.timeout) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return cast(dict[str, Any], response.json())

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, cached for an hour; its issuer must be the configured one
        (OpenID Connect Discovery 1.0, section 4.3)."""
        if self._metadata and time.monotonic() - self._metadata[0] < _METADATA_TTL_SECONDS:
            return self._metadata[1]
        try:
            document = await self._get_json(
                self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            )
        except httpx2.TransportError as error:
            raise OAuthFlowError(errors.PROVIDER_UNAVAILABLE) from error
        except (httpx2.HTTPStatusError, ValueError) as error:
            raise OAuthFlowError(errors.PROVIDER_ERROR) from error
        if document.get("issuer") != self.issuer:
            logger.warning("oauth %s: discovery names another issuer", self.name)
            raise OAuthFlowError(errors.PROVIDER_ERROR)
        self._metadata, self._jwks = (time.monotonic(), document), None
        return document

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            self._jwks = await self._get_json(str((await self.metadata())["jwks_uri"]))
        return KeySet.import_key_set(cast(Any, self._jwks))

    async def _authorization_endpoint(self) -> str:
        return str((await self.metadata())["authorization_endpoint"])

    async def _fetch_profile(self, code: str, request: AuthorizationRequest) -> ProviderProfile:
        metadata = await self.metadata()
        async with self._session(request.redirect_uri) as session:
            token = await session.fetch_token(
                metadata["token_endpoint"],
                code=code,
                code_verifier=request.code_verifier,
                headers={"Accept": "application/json"},
            )
        claims = await self.verify_id_token(
            str(token["id_token"]), nonce=request.nonce, access_token=token.get("access_token")
        )
        email = claims.get("email")
        name = claims.get("name")
        return ProviderProfile(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            email_verified=claims.get("email_verified") in (True, "true"),
            name=name if isinstance(name, str) and name else None,
        )

    async def verify_id_token(
        self, id_token: str, *, nonce: str | None, access_token: str | None
    ) -> Mapping[str, Any]:
        """Signature by a key of the provider's JWKS (fetched again once for an unknown key
        id), then iss, aud (this client), exp, iat, azp, at_hash and the nonce we sent."""
        advertised = (await self.metadata()).get("id_token_signing_alg_values_supported")
        algorithms = [a for a in _ID_TOKEN_ALGORITHMS if a in (advertised or ["RS256"])]
        try:
            token = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
        except InvalidKeyIdError:
            token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=algorithms)
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "values": list(self.issuers)},
                "aud": {"essential": True, "value": self.client.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            {"nonce": nonce, "client_id": self.client.client_id, "access_token": access_token},
        )
        claims.validate(leeway=_CLOCK_LEEWAY_SECONDS)
        if nonce is None or claims.get("nonce") != nonce:  # sent on every request we make
            raise OAuthFlowError(errors.INVALID_ID_TOKEN)
        return cast(Mapping[str, Any], claims)


class GitHubProvider(OAuthProvider):
    """GitHub (or GitHub Enterprise) OAuth app: no ID token, so the person is read from the
    REST API; the subject is the numeric user id (a login name can change hands)."""

    scope = "read:user user:email"
    uses_nonce = False
    display_name = "GitHub"

    def __init__(
        self, name: str, client: OAuthClientSettings, timeout: float, *, base: str, api: str
    ) -> None:
        super().__init__(name, client, timeout)
        self.base = base.rstrip("/")
        self.api = api.rstrip("/")

    async def _authorization_endpoint(self) -> str:
        return f"{self.base}/login/oauth/authorize"

    async def _fetch_profile(self, code: str, request: AuthorizationRequest) -> ProviderProfile:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        async with self._session(
            request.redirect_uri,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        ) as session:
            await session.fetch_token(
                f"{self.base}/login/oauth/access_token",
                code=code,
                code_verifier=request.code_verifier,
                headers={"Accept": "application/json"},
            )
            user_response = await session.get(f"{self.api}/user", headers=headers)
            user_response.raise_for_status()
            emails_response = await session.get(f"{self.api}/user/emails", headers=headers)
            emails_response.raise_for_status()
        user, emails = user_response.json(), emails_response.json()
        email, verified = _github_email(emails)
        return ProviderProfile(
            subject=str(int(user["id"])),
            email=email,
            email_verified=verified,
            name=str(user.get("name") or user["login"]),
        )


def _github_email(emails: list[dict[str, Any]]) -> tuple[str | None, bool]:
    """The primary email if verified, else any verified one, else the unverified primary."""
    ranked = sorted(
        (e for e in emails if isinstance(e.get("email"), str)),
        key=lambda e: (e.get("verified") is not True, e.get("primary") is not True),
    )
    if not ranked:
        return None, False
    return str(ranked[0]["email"]), ranked[0].get("verified") is True


class ProviderRegistry:
    """The providers with a client id and secret in settings; the others are not offered."""

    def __init__(self, providers: Mapping[str, OAuthProvider]) -> None:
        self._providers = dict(providers)

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderRegistry:
        providers: dict[str, OAuthProvider] = {}
        timeout = settings.OAUTH_HTTP_TIMEOUT
        for name, client in sorted(settings.OAUTH_PROVIDERS.items()):
            if not (client.client_id and client.client_secret.get_secret_value()):
                continue
            if not PROVIDER_NAME.match(name):
                logger.warning(
                    "oauth provider %r ignored: name must match %s", name, PROVIDER_NAME.pattern
                )
            elif name == "github":
                providers[name] = GitHubProvider(
                    name,
                    client,
                    timeout,
                    base=settings.OAUTH_GITHUB_BASE_URL,
                    api=settings.OAUTH_GITHUB_API_URL,
                )
            elif name == "google":
                providers[name] = OidcProvider(
                    name,
                    client,
                    timeout,
                    issuer=client.issuer or GOOGLE_ISSUERS[0],
                    display_name="Google",
                    also_issued_as=GOOGLE_ISSUERS[1:] if not client.issuer else (),
                )
            elif client.issuer:
                providers[name] = OidcProvider(
                    name,
                    client,
                    timeout,
                    issuer=client.issuer,
                    display_name=name.replace("-", " ").title(),
                )
            else:
                logger.warning("oauth provider %r ignored: OAUTH_<NAME>_ISSUER is not set", name)
        return cls(providers)

    def configured(self) -> list[OAuthProvider]:
        return list(self._providers.values())

    def get(self, name: str) -> OAuthProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise errors.UnknownProviderError()
        return provider
