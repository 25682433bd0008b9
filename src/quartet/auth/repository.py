"""Auth sessions and spent refresh tokens in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from quartet.auth.models import AuthSession, SpentRefreshToken
from quartet.core.clock import utcnow
from quartet.stores.sql import PostgresRepository


class AuthSessionRepository(PostgresRepository[AuthSession]):
    model = AuthSession

    async def rotate(
        self,
        old_hash: str,
        new_hash: str,
        expires_at: datetime,
        *,
        session_id: uuid.UUID | None = None,
    ) -> AuthSession | None:
        """Swap the current refresh hash in one guarded UPDATE, so of two racing refreshes with
        the same token exactly one matches (the others wait for its commit, then match nothing);
        the spent hash is remembered for reuse detection. `session_id` narrows it to one
        session (the one a cookie request's CSRF token is bound to)."""
        now = utcnow()
        guards = [
            col(AuthSession.refresh_token_hash) == old_hash,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
        ]
        if session_id is not None:
            guards.append(col(AuthSession.id) == session_id)
        statement = (
            update(AuthSession)
            .where(*guards)
            .values(
                refresh_token_hash=new_hash,
                rotation_counter=AuthSession.rotation_counter + 1,
                last_seen_at=now,
                expires_at=expires_at,
                updated_at=now,
            )
            .returning(AuthSession)
            .execution_options(synchronize_session=False)
        )
        session = (await self.session.scalars(statement)).first()
        if session is not None:
            await self.session.execute(
                insert(SpentRefreshToken)
                .values(token_hash=old_hash, session_id=session.id, spent_at=now)
                .on_conflict_do_nothing()
            )
        return session

    async def spent(self, token_hash: str) -> tuple[AuthSession, datetime] | None:
        """The session a spent refresh token belonged to and when it was spent, if it is one
        (one statement: this is the path of every concurrent or retried refresh)."""
        statement = (
            select(AuthSession, col(SpentRefreshToken.spent_at))
            .join(SpentRefreshToken, col(SpentRefreshToken.session_id) == col(AuthSession.id))
            .where(col(SpentRefreshToken.token_hash) == token_hash)
        )
        row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def active_for_user(self, user_id: uuid.UUID) -> Sequence[AuthSession]:
        statement = (
            select(AuthSession)
            .where(
                col(AuthSession.user_id) == user_id,
                col(AuthSession.revoked_at).is_(None),
                col(AuthSession.expires_at) > utcnow(),
            )
            .order_by(col(AuthSession.id).desc())
        )
        return (await self.session.scalars(statement)).all()

    async def revoke(self, ids: Sequence[uuid.UUID], reason: str) -> list[uuid.UUID]:
        """Mark sessions revoked (idempotent); returns the ids that were still active."""
        if not ids:
            return []
        now = utcnow()
        statement = (
            update(AuthSession)
            .where(
                col(AuthSession.id).in_(ids),
                col(AuthSession.revoked_at).is_(None),
            )
            .values(revoked_at=now, revoke_reason=reason, updated_at=now)
            .returning(col(AuthSession.id))
        )
        return list((await self.session.scalars(statement)).all())
