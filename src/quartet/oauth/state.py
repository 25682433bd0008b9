"""Short-lived OAuth state in Redis: the login attempt (state, PKCE verifier, nonce) and the
one-time hand-off code. Both are keyed by a SHA-256 of the secret and taken with GETDEL, so
each is usable once; any Redis error propagates (the flow fails closed with 503)."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import cast

from quartet.core.security import hash_token
from quartet.stores.keyed import KeyedRepository


@dataclass(frozen=True)
class PendingLogin:
    """What the callback needs to finish a login that `initiate` started."""

    provider: str
    browser_hash: str
    """SHA-256 of the httpOnly cookie set on the browser that started the login."""
    code_verifier: str
    nonce: str | None
    redirect_uri: str
    """The callback URL given to the provider (the token request must repeat it)."""
    redirect_to: str
    """The SPA URL the browser lands on at the end."""


class OAuthStateRepository(KeyedRepository):
    namespace = "oauth:"

    def _state(self, state: str) -> str:
        return f"{self.prefix}state:{hash_token(state)}"

    def _handoff(self, code: str) -> str:
        return f"{self.prefix}handoff:{hash_token(code)}"

    async def save_pending(self, state: str, pending: PendingLogin, ttl_seconds: int) -> None:
        await self.redis.set(self._state(state), json.dumps(asdict(pending)), ex=ttl_seconds)

    async def take_pending(self, state: str) -> PendingLogin | None:
        raw = await self.redis.getdel(self._state(state))
        return PendingLogin(**json.loads(raw)) if raw else None

    async def save_handoff(self, code: str, user_id: uuid.UUID, ttl_seconds: int) -> None:
        await self.redis.set(self._handoff(code), str(user_id), ex=ttl_seconds)

    async def take_handoff(self, code: str) -> uuid.UUID | None:
        raw = await self.redis.getdel(self._handoff(code))
        return uuid.UUID(cast(str, raw)) if raw else None  # the client decodes responses
