"""Activity-session rules: who may see or change whose session, and what absence means."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.tokens import Principal
from quartet.rbac.errors import PermissionDeniedError
from quartet.sessions.errors import (
    ActivitySessionExistsError,
    ActivitySessionNotFoundError,
    UserNotFoundError,
)
from quartet.sessions.permissions import SESSIONS_MANAGE_ANY
from quartet.sessions.repository import ActivitySession, ActivitySessionRepository
from quartet.users.repository import UserRepository


def _found(session: ActivitySession | None) -> ActivitySession:
    if session is None:
        raise ActivitySessionNotFoundError()
    return session


class SessionService:
    def __init__(self, manager: ActivitySessionRepository) -> None:
        self.manager = manager

    @staticmethod
    def _authorize(principal: Principal, user_id: uuid.UUID) -> None:
        """The user themself or a holder of sessions.manage_any; anyone else learns nothing (not
        even existence)."""
        if principal.user_id != user_id and not principal.has(SESSIONS_MANAGE_ANY):
            raise PermissionDeniedError(SESSIONS_MANAGE_ANY)

    async def create(
        self, db: AsyncSession, principal: Principal, user_id: uuid.UUID
    ) -> ActivitySession:
        """A new session for an active user; the caller's own auth session joins it."""
        self._authorize(principal, user_id)
        user = await UserRepository(db).get_or_none(user_id)
        if user is None or not user.is_active:
            raise UserNotFoundError()
        own = principal.session_id if principal.user_id == user_id else None
        session = await self.manager.create(user_id, own)
        if session is None:
            raise ActivitySessionExistsError()
        return session

    async def get(self, principal: Principal, user_id: uuid.UUID) -> ActivitySession:
        self._authorize(principal, user_id)
        return _found(await self.manager.get(user_id))

    async def refresh(self, principal: Principal, user_id: uuid.UUID) -> ActivitySession:
        self._authorize(principal, user_id)
        return _found(await self.manager.touch(user_id))

    async def delete(self, principal: Principal, user_id: uuid.UUID) -> None:
        """Idempotent. With SESSION_IDLE_LOGOUT on, this also ends the user's tokens."""
        self._authorize(principal, user_id)
        await self.manager.delete(user_id)
