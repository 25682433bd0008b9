"""How often a code or link may be sent: a cooldown per (purpose, identifier) and hourly
budgets per identifier and per client. Counted the same whether or not an account has the
identifier, so a 429 tells nothing about who is registered."""

from __future__ import annotations

from quartet.settings import Settings
from quartet.verification.codes import CodeRepository
from quartet.verification.errors import ResendCooldownError, SendLimitError

SEND_ERRORS = (ResendCooldownError, SendLimitError)
"""For the `responses=` of routes that send a code or link: what `SendThrottle.take` answers."""


class SendThrottle:
    def __init__(self, codes: CodeRepository, settings: Settings) -> None:
        self.codes = codes
        self.settings = settings

    async def take(self, purpose: str, identifier: str, client: str) -> None:
        """Spend one send, or raise 429 (resend_cooldown / send_limit) with Retry-After."""
        s = self.settings
        verdict, retry_after = await self.codes.reserve_send(
            purpose,
            identifier,
            client,
            cooldown=s.OTP_RESEND_COOLDOWN_SECONDS,
            per_identifier=s.OTP_SENDS_PER_IDENTIFIER_PER_HOUR,
            per_client=s.OTP_SENDS_PER_CLIENT_PER_HOUR,
        )
        if verdict == "cooldown":
            raise ResendCooldownError(retry_after)
        if verdict != "ok":
            raise SendLimitError(retry_after)
