"""What a verified code's proof buys: a login, a new account, a password reset, or verified
contacts. Each flow reads its proof first and spends it in the transaction that uses it, so
a request refused for another reason (a weak password, a taken username) keeps the proof."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.schemas import TokenResponse
from quartet.auth.service import AuthService
from quartet.core.client import ClientMeta
from quartet.core.errors import ValidationFailedError
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.users.schemas import UserPublic
from quartet.verification.errors import InvalidProofError
from quartet.verification.otp import OneTimeCodes, Proof
from quartet.verification.passwords import Passwords
from quartet.verification.schemas import CodePurpose, SignupIn, VerifyContactsIn


class CodeFlows:
    def __init__(self, auth: AuthService, codes: OneTimeCodes, passwords: Passwords) -> None:
        self.auth = auth
        self.codes = codes
        self.passwords = passwords

    async def _holder(self, session: AsyncSession, proof: Proof) -> User:
        """The active account whose contact the proof is for."""
        user = await UserRepository(session).get_by(proof.kind, proof.identifier)
        if user is None or not user.is_active:
            raise InvalidProofError()
        return user

    async def login(self, tx: TransactionRunner, proof: str, meta: ClientMeta) -> TokenResponse:
        """The same token triple and session as `/login`, through the same code."""
        found = await self.codes.peek(CodePurpose.LOGIN, proof)
        user = await tx.run(lambda s: self._holder(s, found))
        await self.codes.spend(CodePurpose.LOGIN, proof)
        return await self.auth.start_session(tx, user.id, meta)

    async def signup(
        self, tx: TransactionRunner, body: SignupIn, meta: ClientMeta
    ) -> TokenResponse:
        """A password-less account whose proven contact is verified; logged in at once."""
        found = await self.codes.peek(CodePurpose.SIGNUP, body.proof)
        if found.kind == "phone" and body.email is None:
            raise ValidationFailedError("email: an account signed up by phone needs an email too")
        email = found.identifier if found.kind == "email" else str(body.email)

        async def work(session: AsyncSession) -> User:
            account = User(
                email=email,
                phone=found.identifier if found.kind == "phone" else None,
                username=body.username,
                full_name=body.full_name,
                hashed_password=None,
                auth_type="otp",
                is_email_verified=found.kind == "email",
                is_phone_verified=found.kind == "phone",
            )
            user = await self.auth.create_account(session, account, meta, method="code")
            await self.codes.spend(CodePurpose.SIGNUP, body.proof)
            return user

        user = await tx.run(work)
        return await self.auth.start_session(tx, user.id, meta)

    async def reset_password(
        self, tx: TransactionRunner, proof: str, new_password: str, meta: ClientMeta
    ) -> None:
        """Reset by code (`/forget-password`): ends every session of the user."""
        found = await self.codes.peek(CodePurpose.RESET_PASSWORD, proof)
        hashed = await self.passwords.prepare(
            await tx.run(lambda s: self._holder(s, found)), new_password
        )

        async def work(session: AsyncSession) -> User:
            user = await self._holder(session, found)
            await self.codes.spend(CodePurpose.RESET_PASSWORD, proof)
            await self.passwords.apply(
                session, user, hashed, meta, action="auth.password_reset_by_code", how="reset"
            )
            return user

        user = await tx.run(work)
        await self.auth.profiles.invalidate(user.id)

    async def verify_contacts(
        self, tx: TransactionRunner, body: VerifyContactsIn, meta: ClientMeta
    ) -> UserPublic:
        """Mark the email and/or phone of one account verified."""
        proofs: list[tuple[str, Proof]] = []
        for expected, given in (("email", body.email_proof), ("phone", body.phone_proof)):
            if given:
                found = await self.codes.peek(CodePurpose.VERIFY_CONTACT, given)
                if found.kind != expected:
                    raise InvalidProofError(f"{expected}_proof is not a proof for a {expected}")
                proofs.append((given, found))

        async def work(session: AsyncSession) -> User:
            holders = {(await self._holder(session, found)).id for _, found in proofs}
            if len(holders) != 1:
                raise InvalidProofError("The proofs belong to different accounts")
            users = UserRepository(session)
            user = await users.get(holders.pop())
            for given, _ in proofs:
                await self.codes.spend(CodePurpose.VERIFY_CONTACT, given)
            changes = {f"is_{found.kind}_verified": True for _, found in proofs}
            await users.update(user, changes)
            await record_action(
                session,
                self.auth.domain_events,
                "auth.contact_verified",
                meta,
                user.id,
                contacts=[found.kind for _, found in proofs],
            )
            return user

        user = await tx.run(work)
        await self.auth.profiles.invalidate(user.id)
        return UserPublic.model_validate(user)
