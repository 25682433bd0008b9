from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import col

from quartet.oauth.models import OAuthIdentity
from quartet.stores.sql import PostgresRepository


class OAuthIdentityRepository(PostgresRepository[OAuthIdentity]):
    model = OAuthIdentity

    async def get_by_subject(self, provider: str, subject: str) -> OAuthIdentity | None:
        query = select(OAuthIdentity).where(
            col(OAuthIdentity.provider) == provider, col(OAuthIdentity.subject) == subject
        )
        return (await self.session.scalars(query)).first()

    async def for_user(self, user_id: uuid.UUID, *, lock: bool = False) -> Sequence[OAuthIdentity]:
        """The user's identities by provider; `lock` holds them (FOR UPDATE) until commit."""
        query = (
            select(OAuthIdentity)
            .where(col(OAuthIdentity.user_id) == user_id)
            .order_by(col(OAuthIdentity.provider))
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()
