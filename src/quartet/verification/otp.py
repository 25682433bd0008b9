"""One-time codes: send (6 digits from `secrets`), verify (constant-time, 5 tries), and the
single-use proof a verified code turns into.

A code is stored only as an HMAC keyed with SECRET_KEY (six digits are too few for a plain
hash to hide them) and expires after OTP_TTL_SECONDS. There is no master, test or bypass code:
the only way to know a code is to receive it. Sending answers the same (202) whether or not an
account has the identifier; only a real recipient gets a message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.domain_events import DomainEvents
from quartet.core.errors import UnauthorizedError
from quartet.core.security import new_opaque_token
from quartet.notifications.service import Notifier
from quartet.settings import Settings
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository
from quartet.verification.codes import CodeRepository
from quartet.verification.errors import ChannelUnavailableError, InvalidCodeError, InvalidProofError
from quartet.verification.schemas import (
    CodePurpose,
    ContactKind,
    ProofOut,
    SendCodeIn,
    VerifyCodeIn,
)
from quartet.verification.throttle import SendThrottle

ACTIONS = {
    CodePurpose.LOGIN: "sign in",
    CodePurpose.SIGNUP: "create your account",
    CodePurpose.VERIFY_CONTACT: "confirm this contact",
    CodePurpose.RESET_PASSWORD: "reset your password",
    CodePurpose.CHANGE_EMAIL: "change your email address",
    CodePurpose.CHANGE_PHONE: "change your phone number",
}
SIGNED_IN_PURPOSES = frozenset({CodePurpose.CHANGE_EMAIL, CodePurpose.CHANGE_PHONE})


@dataclass(frozen=True)
class Proof:
    """What a verified code proved: this contact received the code for this purpose."""

    purpose: CodePurpose
    kind: ContactKind
    identifier: str
    channel: str
    user_id: uuid.UUID | None


@dataclass
class OneTimeCodes:
    settings: Settings
    codes: CodeRepository
    notifier: Notifier
    domain_events: DomainEvents
    throttle: SendThrottle = field(init=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.throttle = SendThrottle(self.codes, self.settings)
        self._key = self.settings.SECRET_KEY.get_secret_value().encode()

    def _digest(self, purpose: str, identifier: str, code: str) -> str:
        message = f"{purpose}\0{identifier}\0{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # -- send ------------------------------------------------------------------------------

    async def send(
        self, tx: TransactionRunner, body: SendCodeIn, principal: Principal | None, meta: ClientMeta
    ) -> None:
        if not self.notifier.available(body.channel):
            raise ChannelUnavailableError()
        if body.purpose in SIGNED_IN_PURPOSES and principal is None:
            raise UnauthorizedError()
        await self.throttle.take(f"code:{body.purpose}", body.identifier, meta.ip)

        async def work(session: AsyncSession) -> None:
            recipient, owner = await self._recipient(session, body, principal)
            await record_action(
                session,
                self.domain_events,
                "auth.code_requested",
                meta,
                owner.id if owner else None,
                purpose=body.purpose.value,
                channel=body.channel.value,
            )
            if recipient:
                await self._issue(session, body, owner)

        await tx.run(work)

    async def _recipient(
        self, session: AsyncSession, body: SendCodeIn, principal: Principal | None
    ) -> tuple[bool, User | None]:
        """Whether a code goes out, and the account it concerns (for its language and audit)."""
        users = UserRepository(session)
        holder = await users.get_by(body.kind, body.identifier)
        if body.purpose == CodePurpose.SIGNUP:
            return holder is None, None
        if principal is not None and body.purpose in SIGNED_IN_PURPOSES:
            return holder is None, await users.get(principal.user_id)
        if body.purpose == CodePurpose.VERIFY_CONTACT and principal is not None:
            # signed in: only the caller's own contact is verified
            return holder is not None and holder.id == principal.user_id, holder
        return holder is not None and holder.is_active, holder

    async def _issue(self, session: AsyncSession, body: SendCodeIn, owner: User | None) -> None:
        ttl = self.settings.OTP_TTL_SECONDS
        code = f"{secrets.randbelow(1_000_000):06d}"
        await self.codes.store(
            body.purpose,
            body.identifier,
            self._digest(body.purpose, body.identifier, code),
            channel=body.channel,
            user_id=str(owner.id) if owner else "",
            ttl=ttl,
        )
        await self.notifier.enqueue(
            session,
            kind="one_time_code",
            channel=body.channel,
            recipient=body.identifier,
            context={"code": code, "action": ACTIONS[body.purpose], "minutes": ttl // 60},
            language=owner.language if owner else None,
            user_id=owner.id if owner else None,
        )

    # -- verify ----------------------------------------------------------------------------

    async def verify(self, tx: TransactionRunner, body: VerifyCodeIn, meta: ClientMeta) -> ProofOut:
        """The code for (identifier, purpose) → a proof. A wrong code counts a try; the
        OTP_MAX_ATTEMPTS-th wrong try burns the code. Unknown, expired, burnt and wrong codes
        all answer the same 400."""
        purpose, identifier = body.purpose, body.identifier
        stored = await self.codes.load(purpose, identifier)
        expected = self._digest(purpose, identifier, body.code)
        matched = stored is not None and hmac.compare_digest(stored.digest, expected)
        if (
            stored is None
            or not matched
            or not await self.codes.consume(purpose, identifier, expected)
        ):
            action = "auth.code_failed"
            if stored is not None and not matched:
                tries = await self.codes.count_failure(
                    purpose, identifier, self.settings.OTP_MAX_ATTEMPTS
                )
                action = "auth.code_burnt" if tries >= self.settings.OTP_MAX_ATTEMPTS else action
            await self._audit(tx, action, meta, stored.user_id if stored else "", purpose)
            raise InvalidCodeError()
        proof = new_opaque_token()
        ttl = self.settings.OTP_PROOF_TTL_SECONDS
        kind: ContactKind = "email" if "@" in identifier else "phone"
        data = {
            "kind": kind,
            "identifier": identifier,
            "channel": stored.channel,
            "user_id": stored.user_id,
        }
        await self.codes.save_proof(purpose, proof, data, ttl)
        await self._audit(tx, "auth.code_verified", meta, stored.user_id, purpose)
        return ProofOut(proof=proof, purpose=purpose, expires_in=ttl)

    async def _audit(
        self, tx: TransactionRunner, action: str, meta: ClientMeta, user_id: str, purpose: str
    ) -> None:
        uid = uuid.UUID(user_id) if user_id else None
        await tx.run(
            lambda s: record_action(s, self.domain_events, action, meta, uid, purpose=purpose)
        )

    # -- proofs ----------------------------------------------------------------------------

    async def peek(self, purpose: CodePurpose, proof: str) -> Proof:
        """Read a proof without spending it (to validate the rest of a request first)."""
        data = await self.codes.read_proof(purpose, proof)
        if data is None:
            raise InvalidProofError()
        return Proof(
            purpose,
            data["kind"],
            data["identifier"],
            data["channel"],
            uuid.UUID(data["user_id"]) if data["user_id"] else None,
        )

    async def spend(self, purpose: CodePurpose, proof: str) -> None:
        """Use the proof up; 400 if it was spent meanwhile (two racing uses: one wins)."""
        if not await self.codes.take_proof(purpose, proof):
            raise InvalidProofError()
