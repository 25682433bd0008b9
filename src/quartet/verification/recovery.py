"""The email-link flows: verify an address, resend the link, forgot and reset a password."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.service import AuthService
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.errors import ValidationFailedError
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.verification.codes import CodeRepository
from quartet.verification.errors import InvalidLinkTokenError
from quartet.verification.models import LinkPurpose
from quartet.verification.passwords import Passwords
from quartet.verification.throttle import SendThrottle


class LinkFlows:
    def __init__(self, auth: AuthService, passwords: Passwords, codes: CodeRepository) -> None:
        self.auth = auth
        self.links = auth.links
        self.passwords = passwords
        self.throttle = SendThrottle(codes, auth.settings)

    async def _audit(
        self, db: AsyncSession, action: str, meta: ClientMeta, user: User | None
    ) -> None:
        await record_action(db, self.auth.domain_events, action, meta, user.id if user else None)

    async def verify_email(self, tx: TransactionRunner, token: str, meta: ClientMeta) -> None:
        async def work(session: AsyncSession) -> User:
            spent = await self.links.spend(session, token, LinkPurpose.VERIFY_EMAIL)
            users = UserRepository(session)
            user = await users.get(spent.user_id)
            if user.email.casefold() != spent.email.casefold():  # the address changed since
                raise InvalidLinkTokenError()
            await users.update(user, {"is_email_verified": True})
            await self._audit(session, "auth.email_verified", meta, user)
            return user

        user = await tx.run(work)
        await self.auth.profiles.invalidate(user.id)

    async def resend_verification(
        self,
        tx: TransactionRunner,
        principal: Principal | None,
        email: str | None,
        meta: ClientMeta,
    ) -> None:
        """For the signed-in user, or for `email`; the same answer for unknown addresses."""
        if principal is None and email is None:
            raise ValidationFailedError("Sign in, or give the account's email")
        if principal is not None:
            await self.throttle.take("link:verify", str(principal.user_id), meta.ip)
        else:
            await self.throttle.take("link:verify", str(email).casefold(), meta.ip)

        async def work(session: AsyncSession) -> None:
            users = UserRepository(session)
            user = (
                await users.get_or_none(principal.user_id)
                if principal is not None
                else await users.get_by("email", str(email))
            )
            if user is not None and user.is_active and not user.is_email_verified:
                await self.links.send_verification(session, user)
            await self._audit(session, "auth.verification_requested", meta, user)

        await tx.run(work)

    async def forgot_password(self, tx: TransactionRunner, email: str, meta: ClientMeta) -> None:
        """A reset link to the account's address; the same answer for unknown addresses."""
        await self.throttle.take("link:reset", email.casefold(), meta.ip)

        async def work(session: AsyncSession) -> None:
            user = await UserRepository(session).get_by("email", email)
            if user is not None and user.is_active:
                await self.links.send_reset(session, user)
            await self._audit(session, "auth.password_reset_requested", meta, user)

        await tx.run(work)

    async def reset_password(
        self, tx: TransactionRunner, token: str, new_password: str, meta: ClientMeta
    ) -> None:
        """The link's token sets a new password and ends every session of the user. The token
        is read first and spent only with the new hash, so a weak password does not burn it."""

        async def owner(session: AsyncSession) -> User:
            found = await self.links.find(session, token, LinkPurpose.RESET_PASSWORD)
            return await UserRepository(session).get(found.user_id)

        hashed = await self.passwords.prepare(await tx.run(owner), new_password)

        async def work(session: AsyncSession) -> User:
            spent = await self.links.spend(session, token, LinkPurpose.RESET_PASSWORD)
            user = await UserRepository(session).get(spent.user_id)
            await self.passwords.apply(
                session, user, hashed, meta, action="auth.password_reset", how="reset"
            )
            return user

        user = await tx.run(work)
        await self.auth.profiles.invalidate(user.id)
