"""Changing the signed-in user's email or phone: the new contact is proven by a code sent to
it (purpose change_email / change_phone, bound to this user), and the account's email — the
old one, for an email change — is told."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.service import AuthService
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.clock import utcnow
from quartet.core.errors import ConflictError
from quartet.notifications.models import Channel
from quartet.notifications.service import Notifier
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.users.schemas import UserPublic
from quartet.verification.errors import InvalidProofError
from quartet.verification.models import LinkPurpose
from quartet.verification.otp import OneTimeCodes
from quartet.verification.schemas import CodePurpose

FIELD_NAMES = {"email": "email address", "phone": "phone number"}


class ContactChanges:
    def __init__(self, auth: AuthService, codes: OneTimeCodes, notifier: Notifier) -> None:
        self.auth = auth
        self.codes = codes
        self.notifier = notifier

    async def change(
        self,
        tx: TransactionRunner,
        principal: Principal,
        purpose: CodePurpose,
        proof: str,
        meta: ClientMeta,
    ) -> UserPublic:
        found = await self.codes.peek(purpose, proof)
        if found.user_id != principal.user_id:
            raise InvalidProofError()
        field = found.kind

        async def work(session: AsyncSession) -> User:
            users = UserRepository(session)
            if await users.is_taken(field, found.identifier):
                raise ConflictError(f"That {field} is already registered")
            user = await users.get(principal.user_id)
            told = user.email  # for an email change: the old address
            await self.codes.spend(purpose, proof)
            await users.update(user, {field: found.identifier, f"is_{field}_verified": True})
            await self._tell(session, user, told, field, found.identifier)
            await record_action(
                session,
                self.auth.domain_events,
                f"account.{field}_changed",
                meta,
                user.id,
                channel=found.channel,
            )
            return user

        user = await tx.run(work)
        await self.auth.profiles.invalidate(user.id)
        return UserPublic.model_validate(user)

    async def _tell(
        self, session: AsyncSession, user: User, address: str, field: str, new_value: str
    ) -> None:
        await self.notifier.enqueue(
            session,
            kind="contact_changed",
            channel=Channel.EMAIL,
            recipient=address,
            context={
                "name": user.full_name or address,
                "field": FIELD_NAMES[field],
                "new_value": new_value,
                "when": utcnow().strftime("%Y-%m-%d %H:%M"),
                "reset_link": self.auth.links.link(LinkPurpose.RESET_PASSWORD),
            },
            language=user.language,
            user_id=user.id,
        )
