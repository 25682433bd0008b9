"""The three tokens: access (JWT, short), session (JWT, 7 days, carries the profile essentials,
roles, the effective permission set and the authorization version) and refresh (opaque, stored
hashed, rotated on use). An access token carries no permissions: they are cached in Redis under
its authorization version (`quartet.auth.state_repository`).

A login's refresh token is random; each rotation's is derived from the one it replaces with a
keyed hash, so every refresh that presents the same token within the reuse grace window is
answered with the same successor (see `AuthService.refresh`) although only hashes are stored."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from quartet.core.clock import utcnow
from quartet.core.security import InvalidTokenError, TokenCodec, derive_key, keyed_digest
from quartet.settings import Settings
from quartet.users.models import User

SUPERUSER = "superuser"
ACCESS = "access"
SESSION = "session"
BEARER_TYPES = (ACCESS, SESSION)
VERIFIED_BEARERS_KEPT = 4096
"""Bearer tokens whose verification a worker remembers (a few MB at most)."""


@dataclass(frozen=True)
class TokenSubject:
    """Whom a bearer token names, by which session and token type, with which roles."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    token_type: str
    roles: tuple[str, ...]

    @property
    def is_superuser(self) -> bool:
        return SUPERUSER in self.roles


@dataclass(frozen=True)
class Principal(TokenSubject):
    """Who is calling and what they may do, from a verified bearer token (no database read)."""

    permissions: frozenset[str] = frozenset()

    def has(self, codename: str) -> bool:
        """Superusers hold every permission."""
        return self.is_superuser or codename in self.permissions

    def lacking(self, codenames: Iterable[str]) -> str | None:
        """The first of `codenames` the caller does not hold, if any."""
        return next((c for c in codenames if not self.has(c)), None)


@dataclass(frozen=True)
class BearerClaims(TokenSubject):
    """What a verified bearer token says."""

    version: int
    carried: frozenset[str]
    """The permissions a session token carries (an access token's come from Redis)."""

    @property
    def permissions_cached(self) -> bool:
        """An access token of a non-superuser: its permission set is read from Redis."""
        return self.token_type == ACCESS and not self.is_superuser


@dataclass(frozen=True)
class Grant:
    """What tokens are minted with: the authorization version and the effective permissions
    (empty for a superuser, who holds every permission through the role)."""

    version: int
    permissions: frozenset[str]


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    session_token: str
    expires_in: int


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self.codec = TokenCodec(
            settings.SECRET_KEY.get_secret_value(),
            settings.JWT_ALGORITHM,
            settings.JWT_ISSUER,
            settings.JWT_AUDIENCE,
        )
        self.access_ttl = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
        self.session_ttl = timedelta(days=settings.SESSION_TOKEN_EXPIRE_DAYS)
        self.refresh_ttl = timedelta(days=settings.REFRESH_TOKEN_EXPIRE_DAYS)
        self._refresh_chain_key = derive_key(
            settings.SECRET_KEY.get_secret_value(), "quartet.refresh-token-chain"
        )
        self._verified = lru_cache(maxsize=VERIFIED_BEARERS_KEPT)(self._verify_bearer)

    def next_refresh_token(self, parent: str) -> str:
        """The refresh token that replaces `parent` (256 bits, unguessable without the key)."""
        return keyed_digest(self._refresh_chain_key, parent)

    @property
    def longest_bearer_seconds(self) -> int:
        """How long a revocation must be remembered: the life of the longest bearer token."""
        return int(max(self.access_ttl, self.session_ttl).total_seconds())

    def _claims(
        self, typ: str, user: User, session_id: uuid.UUID, ttl: timedelta, version: int
    ) -> dict[str, Any]:
        now = utcnow()
        return {
            "typ": typ,
            "sub": str(user.id),
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "roles": user.roles,
            "ver": version,
        }

    def issue(self, user: User, session_id: uuid.UUID, grant: Grant) -> IssuedTokens:
        access = self.codec.encode(
            self._claims(ACCESS, user, session_id, self.access_ttl, grant.version)
        )
        session_claims = self._claims(SESSION, user, session_id, self.session_ttl, grant.version)
        session_claims["perms"] = sorted(grant.permissions)
        session_claims["user"] = {
            "email": user.email,
            "username": user.username,
            "full_name": user.full_name,
            "is_superuser": user.is_superuser,
            "is_email_verified": user.is_email_verified,
            "language": user.language,
            "timezone": user.timezone,
        }
        return IssuedTokens(
            access_token=access,
            session_token=self.codec.encode(session_claims),
            expires_in=int(self.access_ttl.total_seconds()),
        )

    def bearer(self, token: str) -> BearerClaims:
        """A bearer token's claims: signature, registered claims and type verified (never a
        refresh token), and not expired. A token this worker verified before costs a lookup
        and the expiry check instead of an HMAC and a JSON parse: the answer for the exact same
        string cannot change but by expiring. Revocation is not decided here (Redis, on every
        request)."""
        claims, expires = self._verified(token)
        if expires <= time.time():
            raise InvalidTokenError("ExpiredSignatureError")
        return claims

    def _verify_bearer(self, token: str) -> tuple[BearerClaims, float]:
        """Raises for an invalid token (a failure is never remembered)."""
        claims = self.codec.decode(token, BEARER_TYPES)
        verified = BearerClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            version=int(claims.get("ver", 0)),
            roles=tuple(claims.get("roles", ())),
            token_type=str(claims["typ"]),
            carried=frozenset(str(c) for c in claims.get("perms", ())),
        )
        return verified, float(claims["exp"])
