"""Password hashing and JWT primitives (no knowledge of users or sessions).

Passwords: bcrypt over base64(SHA-256(password)). bcrypt reads at most 72 bytes; pre-hashing
makes every character of a long passphrase count instead of silently truncating it, and base64
keeps NUL bytes out of bcrypt's input. Hashing runs in a bounded thread pool (bcrypt releases
the GIL) so the event loop never blocks. JWT decoding pins the algorithm list and requires every
registered claim, so `alg=none` and tokens missing claims are refused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bcrypt
import jwt

REQUIRED_CLAIMS = ("typ", "sub", "sid", "jti", "iat", "exp", "iss", "aud")


class InvalidTokenError(Exception):
    """A token that is malformed, forged, expired, or of the wrong type/audience."""


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class PasswordHasher:
    """bcrypt in a bounded executor, with a dummy hash to equalise timing for unknown users."""

    def __init__(self, rounds: int, workers: int) -> None:
        self.rounds = rounds
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self._dummy_hash = bcrypt.hashpw(
            _prehash(secrets.token_urlsafe(16)), bcrypt.gensalt(rounds)
        )

    def _hash(self, password: str) -> str:
        return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds)).decode("ascii")

    @staticmethod
    def _verify(password: str, hashed: bytes) -> bool:
        try:
            return bcrypt.checkpw(_prehash(password), hashed)
        except ValueError:  # a corrupt stored hash never authenticates
            return False

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._hash, password
        )

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Check `password`; with no stored hash, burn the same time and answer False."""
        target = hashed.encode("ascii") if hashed else self._dummy_hash
        ok = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._verify, password, target
        )
        return ok and hashed is not None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class TokenCodec:
    """Sign and verify JWTs with one key, algorithm, issuer and audience."""

    def __init__(self, secret: str, algorithm: str, issuer: str, audience: str) -> None:
        self._secret = secret
        self.algorithm = algorithm
        self.issuer = issuer
        self.audience = audience

    def encode(self, claims: dict[str, Any]) -> str:
        payload = {"iss": self.issuer, "aud": self.audience, **claims}
        return jwt.encode(payload, self._secret, algorithm=self.algorithm)

    def decode(self, token: str, expected_type: str | tuple[str, ...]) -> dict[str, Any]:
        types = (expected_type,) if isinstance(expected_type, str) else expected_type
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(type(error).__name__) from error
        if claims.get("typ") not in types:
            raise InvalidTokenError("wrong token type")
        return claims


def new_opaque_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What we store for an opaque token: its SHA-256 (the token itself has 256 bits of entropy,
    so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_key(secret: str, purpose: str) -> bytes:
    """A key of its own for each purpose, derived from the one `SECRET_KEY`, so a value made for
    one use (a CSRF token, a refresh-token chain) is never valid for another."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


def keyed_digest(key: bytes, message: str) -> str:
    """URL-safe HMAC-SHA256 of `message` (43 characters, 256 bits)."""
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
