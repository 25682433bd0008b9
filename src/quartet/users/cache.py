"""The cached public profile of a user (`GET /auth/me`, read on every SPA page load).

What is cached is exactly `UserPublic` (never password data); it changes whenever the user row
does (`last_login_at` on every login, `updated_at` on every write), so every code path that
writes a user row calls `invalidate` after its commit. The generation guard of `Cache` keeps a
read that raced the write from storing the old row; the TTL bounds staleness if Redis could not
be told (an invalidation during a Redis outage).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.cache import Cache
from quartet.users.repository import UserRepository
from quartet.users.schemas import UserPublic


class ProfileCache:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @staticmethod
    def name(user_id: uuid.UUID) -> str:
        return f"user:{user_id}:profile"

    async def get(self, db: AsyncSession, user_id: uuid.UUID) -> UserPublic | None:
        async def load() -> UserPublic | None:
            user = await UserRepository(db).get_or_none(user_id)
            return UserPublic.model_validate(user) if user is not None else None

        return await self.cache.get_or_load(self.name(user_id), UserPublic, load)

    @classmethod
    def names(cls, user_id: uuid.UUID) -> tuple[str, str]:
        """Every cached shape of the user: this one and `/settings/profile`'s."""
        return cls.name(user_id), f"user:{user_id}:settings-profile"

    async def invalidate(self, user_id: uuid.UUID) -> None:
        for name in self.names(user_id):
            await self.cache.invalidate(name)
