"""Email-link tokens in PostgreSQL: looked up and spent by hash, never stored in clear."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select, update
from sqlmodel import col

from quartet.core.clock import utcnow
from quartet.stores.sql import PostgresRepository
from quartet.verification.models import AccountToken


class AccountTokenRepository(PostgresRepository[AccountToken]):
    model = AccountToken

    def _live(self, token_hash: str, purpose: str) -> tuple[ColumnElement[bool], ...]:
        return (
            col(AccountToken.token_hash) == token_hash,
            col(AccountToken.purpose) == purpose,
            col(AccountToken.used_at).is_(None),
            col(AccountToken.revoked_at).is_(None),
            col(AccountToken.expires_at) > utcnow(),
        )

    async def supersede(self, user_id: uuid.UUID, purpose: str) -> None:
        """Revoke the user's unused tokens of this purpose: only the newest link works."""
        now = utcnow()
        await self.session.execute(
            update(AccountToken)
            .where(
                col(AccountToken.user_id) == user_id,
                col(AccountToken.purpose) == purpose,
                col(AccountToken.used_at).is_(None),
                col(AccountToken.revoked_at).is_(None),
            )
            .values(revoked_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def find_live(self, token_hash: str, purpose: str) -> AccountToken | None:
        """The token if it is unused, current and unexpired (nothing is spent)."""
        statement = select(AccountToken).where(*self._live(token_hash, purpose))
        return (await self.session.scalars(statement)).first()

    async def spend(self, token_hash: str, purpose: str) -> AccountToken | None:
        """Mark the token used in one guarded UPDATE: of two racing uses exactly one gets it."""
        now = utcnow()
        statement = (
            update(AccountToken)
            .where(*self._live(token_hash, purpose))
            .values(used_at=now, updated_at=now)
            .returning(AccountToken)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.scalars(statement)).first()
