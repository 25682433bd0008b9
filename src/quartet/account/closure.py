"""Deactivating or deleting one's own account, confirmed by the password, or (for an account
without one) by the proof of a `verify_contact` code sent to its own email or phone.

Deactivation ends every session and refuses login with `account_deactivated` until an
administrator sets `is_active` again. Deletion records the erasure and stops the account in one
transaction, then erases it from all four stores (`quartet.erasure`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.account.errors import ConfirmationFailedError
from quartet.account.profile_schemas import ConfirmIn
from quartet.audit.trail import record_action
from quartet.auth.service import AuthService
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.clock import utcnow
from quartet.erasure.models import AccountErasure
from quartet.erasure.service import ErasureService
from quartet.rbac.errors import UserNotFoundError
from quartet.rbac.versions import bump_authz_versions
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.verification.errors import InvalidProofError
from quartet.verification.otp import OneTimeCodes
from quartet.verification.schemas import CodePurpose

PROOF_PURPOSE = CodePurpose.VERIFY_CONTACT
INACTIVE = "inactive"
T = TypeVar("T")


class AccountClosure:
    def __init__(self, auth: AuthService, codes: OneTimeCodes, erasure: ErasureService) -> None:
        self.auth = auth
        self.codes = codes
        self.erasure = erasure

    async def _confirm(self, tx: TransactionRunner, principal: Principal, body: ConfirmIn) -> str:
        """Check the confirmation before any write; returns how it was given. A proof is only
        read here and spent in the transaction that acts on it."""
        user = await tx.run(lambda s: UserRepository(s).get_or_none(principal.user_id))
        if user is None or not user.is_active:
            raise UserNotFoundError()
        if user.hashed_password is not None:
            if body.password is None or not await self.auth.hasher.verify(
                body.password, user.hashed_password
            ):
                raise ConfirmationFailedError()
            return "password"
        if body.proof is None:
            raise ConfirmationFailedError()
        try:
            proof = await self.codes.peek(PROOF_PURPOSE, body.proof)
        except InvalidProofError as error:
            raise ConfirmationFailedError() from error
        if proof.user_id != principal.user_id:
            raise ConfirmationFailedError()
        return "code"

    async def _confirmed(
        self,
        tx: TransactionRunner,
        principal: Principal,
        body: ConfirmIn,
        act: Callable[[AsyncSession, User, str], Awaitable[T]],
    ) -> T:
        """Check the confirmation, then in one transaction lock the still active account, spend
        the proof (if one was given) and `act(session, user, how it was confirmed)`."""
        method = await self._confirm(tx, principal, body)

        async def work(session: AsyncSession) -> T:
            user = await UserRepository(session).get_locked(principal.user_id)
            if not user.is_active:
                raise UserNotFoundError()
            if body.proof is not None:
                await self.codes.spend(PROOF_PURPOSE, body.proof)
            return await act(session, user, method)

        return await tx.run(work)

    async def deactivate(
        self, tx: TransactionRunner, principal: Principal, body: ConfirmIn, meta: ClientMeta
    ) -> User:
        async def stop(session: AsyncSession, user: User, method: str) -> User:
            await UserRepository(session).update(
                user, {"is_active": False, "status": INACTIVE, "deactivated_at": utcnow()}
            )
            await bump_authz_versions(session, self.auth.state, [user.id])
            await self.auth.end_sessions(session, user.id, meta, "account_deactivated")
            await record_action(
                session, self.auth.domain_events, "account.deactivated", meta, user.id, via=method
            )
            return user

        user = await self._confirmed(tx, principal, body, stop)
        await self.auth.activity_sessions.delete(user.id)
        await self.auth.profiles.invalidate(user.id)
        return user

    async def delete(
        self, tx: TransactionRunner, principal: Principal, body: ConfirmIn, meta: ClientMeta
    ) -> AccountErasure:
        async def begin(session: AsyncSession, user: User, method: str) -> AccountErasure:
            erasure = await ErasureService.begin(session, self.auth.state, user, user.id)
            # no user id on the record: it would be the next thing to erase
            await record_action(
                session,
                self.auth.domain_events,
                "account.deletion_requested",
                meta,
                None,
                erasure_id=str(erasure.id),
                via=method,
            )
            return erasure

        erasure = await self._confirmed(tx, principal, body, begin)
        await self.auth.profiles.invalidate(principal.user_id)
        return await self.erasure.run(erasure.id)
