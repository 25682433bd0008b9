"""The background dispatcher: sends what the outbox holds, after commit, at least once.

Each pass is one transaction: claim up to NOTIFY_BATCH_SIZE due messages with
`FOR UPDATE SKIP LOCKED` (another dispatcher skips them), send them concurrently, record each
outcome, commit. A crash anywhere before that commit rolls the claim back, so the next pass
(here or in another process) sends the message again: nothing committed is ever lost, and a
message may at worst go out twice, which is why each carries an idempotency key the providers
(Resend's Idempotency-Key, the SMTP Message-ID) can fold. Transient failures are retried with
exponential backoff up to NOTIFY_MAX_ATTEMPTS, permanent ones fail at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from contextlib import suppress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quartet.core.background import BackgroundTask
from quartet.core.clock import utcnow
from quartet.notifications.models import OutboxMessage
from quartet.notifications.providers import DeliveryError, Providers
from quartet.notifications.repository import OutboxRepository
from quartet.settings import Settings
from quartet.stores.postgres import unit_of_work

logger = logging.getLogger(__name__)

IDLE_ERROR_MAX_DELAY = 60.0


class NotificationDispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.enabled = settings.NOTIFY_DISPATCHER_ENABLED
        self.batch_size = settings.NOTIFY_BATCH_SIZE
        self.poll = settings.NOTIFY_POLL_SECONDS
        self.max_attempts = settings.NOTIFY_MAX_ATTEMPTS
        self.retry_base = settings.NOTIFY_RETRY_BASE_SECONDS
        self.retry_max = settings.NOTIFY_RETRY_MAX_SECONDS
        self.grace = settings.NOTIFY_PROVIDER_TIMEOUT + 1.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop = BackgroundTask("notification-dispatcher")
        self._totals = Counter(sent=0, failed=0, retried=0, passes=0)

    # -- control ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (called after a transaction that queued a message commits)."""
        self._wake.set()

    def start(self) -> None:
        if self.enabled and not self._loop.running:
            self._stopping = False
            self._loop.start(self._run)

    async def stop(self) -> None:
        """Let the pass in flight finish (within the provider timeout), then stop. What is not
        settled stays pending in the outbox for the next start."""
        if not self._loop.running:
            return
        self._stopping = True
        self._wake.set()
        await self._loop.stop(self.grace)

    def stats(self) -> dict[str, int]:
        """This process's outcomes since start (no I/O)."""
        return dict(self._totals)

    async def pending(self) -> int:
        """Messages waiting in the whole outbox (the queue depth metrics sample)."""
        async with unit_of_work(self.sessionmaker) as session:
            return await OutboxRepository(session).count_pending()

    async def outbox_counts(self) -> dict[str, int]:
        """The whole outbox by status: `pending`, `sent`, `failed` (one grouped count)."""
        async with unit_of_work(self.sessionmaker) as session:
            return await OutboxRepository(session).count_by_status()

    # -- the loop --------------------------------------------------------------------------

    async def _run(self) -> None:
        errors = 0
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.dispatch_once()
                errors = 0
            except Exception as error:  # PostgreSQL down, ...: keep going, back off
                errors += 1
                delay = min(IDLE_ERROR_MAX_DELAY, self.poll * 2 ** min(errors, 6))
                logger.warning(
                    "notification dispatcher pass failed (%s); next in %.1fs",
                    type(error).__name__,
                    delay,
                )
                await self._idle(delay)
                continue
            if handled < self.batch_size:
                await self._idle(self.poll)

    async def _idle(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def dispatch_once(self) -> int:
        """One pass: claim, send, settle, commit. Returns how many messages it handled."""
        async with unit_of_work(self.sessionmaker) as session:
            outbox = OutboxRepository(session)
            batch = await outbox.claim_due(self.batch_size, self.providers.by_channel)
            outcomes = await asyncio.gather(*(self._deliver(m) for m in batch))
            settled = [
                await self._settle(outbox, message, outcome)
                for message, outcome in zip(batch, outcomes, strict=True)
            ]
        self._totals.update(settled)  # counted once the pass committed
        self._totals["passes"] += 1
        return len(batch)

    async def _deliver(self, message: OutboxMessage) -> str | DeliveryError | None:
        try:
            return await self.providers.get(message.channel).send(message)
        except DeliveryError as error:
            return error
        except Exception as error:  # a backend bug must not stop the other messages
            logger.exception("notification backend failed unexpectedly")
            return DeliveryError(f"unexpected {type(error).__name__}", permanent=False)

    async def _settle(
        self, outbox: OutboxRepository, message: OutboxMessage, outcome: str | DeliveryError | None
    ) -> str:
        attempts = message.attempts + 1
        if not isinstance(outcome, DeliveryError):
            await outbox.mark_sent(message.id, attempts, outcome)
            return "sent"
        if outcome.permanent or attempts >= self.max_attempts:
            logger.warning(
                "notification %s (%s) failed after %d attempts: %s",
                message.id,
                message.kind,
                attempts,
                outcome,
            )
            await outbox.mark_failed(message.id, attempts, str(outcome))
            return "failed"
        delay = min(self.retry_max, self.retry_base * 2 ** (attempts - 1))
        delay *= 1 + secrets.randbelow(250) / 1000  # jitter: retries of a burst spread out
        await outbox.mark_retry(
            message.id, attempts, str(outcome), utcnow() + timedelta(seconds=delay)
        )
        return "retried"
