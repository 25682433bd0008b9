"""Email links: issue a single-use token and queue the message carrying it, together.

The token (256 bits) goes only into the link, which points at the SPA (`FRONTEND_BASE_URL`);
the SPA posts it back. PostgreSQL holds its SHA-256, purpose, user, the address it was sent
to, expiry and use. Issuing revokes the user's older unused tokens of the same purpose.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.core.clock import utcnow
from quartet.core.security import hash_token, new_opaque_token
from quartet.notifications.models import Channel
from quartet.notifications.service import Notifier
from quartet.settings import Settings
from quartet.users.models import User
from quartet.verification.errors import InvalidLinkTokenError
from quartet.verification.models import AccountToken, LinkPurpose
from quartet.verification.repository import AccountTokenRepository

PAGES = {LinkPurpose.VERIFY_EMAIL: "verify-email", LinkPurpose.RESET_PASSWORD: "reset-password"}


class EmailLinks:
    def __init__(self, settings: Settings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier

    def link(self, purpose: LinkPurpose, token: str | None = None) -> str:
        """The SPA page for `purpose`, with the token when there is one."""
        base = f"{self.settings.FRONTEND_BASE_URL.rstrip('/')}/{PAGES[purpose]}"
        return f"{base}?{urlencode({'token': token})}" if token else base

    async def send_verification(self, db: AsyncSession, user: User) -> None:
        hours = self.settings.EMAIL_VERIFICATION_TOKEN_HOURS
        token = await self._issue(db, user, LinkPurpose.VERIFY_EMAIL, timedelta(hours=hours))
        await self._send(db, user, "verify_email", LinkPurpose.VERIFY_EMAIL, token, hours=hours)

    async def send_reset(self, db: AsyncSession, user: User) -> None:
        minutes = self.settings.PASSWORD_RESET_TOKEN_MINUTES
        token = await self._issue(db, user, LinkPurpose.RESET_PASSWORD, timedelta(minutes=minutes))
        await self._send(
            db, user, "reset_password", LinkPurpose.RESET_PASSWORD, token, minutes=minutes
        )

    async def find(self, db: AsyncSession, token: str, purpose: LinkPurpose) -> AccountToken:
        """A live token (nothing spent), or 400 invalid_link_token."""
        found = await AccountTokenRepository(db).find_live(hash_token(token), purpose)
        if found is None:
            raise InvalidLinkTokenError()
        return found

    async def spend(self, db: AsyncSession, token: str, purpose: LinkPurpose) -> AccountToken:
        """Use the token up (single use, race-safe), or 400 invalid_link_token."""
        spent = await AccountTokenRepository(db).spend(hash_token(token), purpose)
        if spent is None:
            raise InvalidLinkTokenError()
        return spent

    async def _issue(
        self, db: AsyncSession, user: User, purpose: LinkPurpose, ttl: timedelta
    ) -> str:
        tokens = AccountTokenRepository(db)
        await tokens.supersede(user.id, purpose)
        token = new_opaque_token()
        await tokens.create(
            AccountToken(
                user_id=user.id,
                purpose=purpose,
                token_hash=hash_token(token),
                email=user.email,
                expires_at=utcnow() + ttl,
            )
        )
        return token

    async def _send(
        self,
        db: AsyncSession,
        user: User,
        kind: str,
        purpose: LinkPurpose,
        token: str,
        **context: object,
    ) -> None:
        await self.notifier.enqueue(
            db,
            kind=kind,
            channel=Channel.EMAIL,
            recipient=user.email,
            context={
                "name": user.full_name or user.email,
                "link": self.link(purpose, token),
                **context,
            },
            language=user.language,
            user_id=user.id,
        )
