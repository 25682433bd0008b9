"""Setting a new password, whichever flow proved the right to: reset by link or code, set
(an account without one) and change. All end the same way: the hash is written, the other
sessions end (except for `set`), the user is told by email, and the action is audited."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.service import AuthService
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.clock import utcnow
from quartet.notifications.models import Channel
from quartet.notifications.service import Notifier
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.verification.errors import PasswordAlreadySetError, WrongPasswordError
from quartet.verification.models import LinkPurpose

SESSIONS_ENDED_REASON = "ended_by_password"


class Passwords:
    def __init__(self, auth: AuthService, notifier: Notifier) -> None:
        self.auth = auth
        self.notifier = notifier

    async def prepare(self, user: User, new_password: str) -> str:
        """Check the policy and hash (in the bcrypt pool, holding no database connection)."""
        self.auth.check_policy(new_password, email=user.email, username=user.username)
        return await self.auth.hasher.hash(new_password)

    async def apply(
        self,
        db: AsyncSession,
        user: User,
        hashed: str,
        meta: ClientMeta,
        *,
        action: str,
        how: str,
        end_sessions: bool = True,
        keep: uuid.UUID | None = None,
    ) -> None:
        await UserRepository(db).update(user, {"hashed_password": hashed})
        ended = 0
        if end_sessions:
            ended = await self.auth.end_sessions(
                db, user.id, meta, SESSIONS_ENDED_REASON, keep=keep
            )
        await self.notifier.enqueue(
            db,
            kind="password_changed",
            channel=Channel.EMAIL,
            recipient=user.email,
            context={
                "name": user.full_name or user.email,
                "how": how,
                "when": utcnow().strftime("%Y-%m-%d %H:%M"),
                "reset_link": self.auth.links.link(LinkPurpose.RESET_PASSWORD),
            },
            language=user.language,
            user_id=user.id,
        )
        await record_action(
            db, self.auth.domain_events, action, meta, user.id, sessions_ended=ended
        )

    async def set_password(
        self, tx: TransactionRunner, principal: Principal, new_password: str, meta: ClientMeta
    ) -> None:
        """For an account that has no password (signed up by code or by OAuth)."""
        user = await tx.run(lambda s: UserRepository(s).get(principal.user_id))
        if user.hashed_password:
            raise PasswordAlreadySetError()
        hashed = await self.prepare(user, new_password)

        async def work(session: AsyncSession) -> None:
            current = await UserRepository(session).get(principal.user_id)
            if current.hashed_password:  # set concurrently
                raise PasswordAlreadySetError()
            await self.apply(
                session,
                current,
                hashed,
                meta,
                action="auth.password_set",
                how="set",
                end_sessions=False,
            )

        await tx.run(work)
        await self.auth.profiles.invalidate(principal.user_id)

    async def change_password(
        self,
        tx: TransactionRunner,
        principal: Principal,
        current_password: str,
        new_password: str,
        meta: ClientMeta,
    ) -> None:
        """Needs the current password; every other session of the user ends."""
        user = await tx.run(lambda s: UserRepository(s).get(principal.user_id))
        old_hash = user.hashed_password
        if not await self.auth.hasher.verify(current_password, old_hash):
            await tx.run(
                lambda s: record_action(
                    s, self.auth.domain_events, "auth.password_change_failed", meta, user.id
                )
            )
            raise WrongPasswordError()
        hashed = await self.prepare(user, new_password)

        async def work(session: AsyncSession) -> None:
            current = await UserRepository(session).get(principal.user_id)
            if current.hashed_password != old_hash:  # changed concurrently
                raise WrongPasswordError()
            await self.apply(
                session,
                current,
                hashed,
                meta,
                action="auth.password_changed",
                how="changed",
                keep=principal.session_id,
            )

        await tx.run(work)
        await self.auth.profiles.invalidate(principal.user_id)
