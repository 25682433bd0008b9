"""Outbox rows: written by the flows, claimed and settled by the dispatcher."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import col

from quartet.core.clock import utcnow
from quartet.notifications.models import OutboxMessage, OutboxStatus
from quartet.stores.sql import PostgresRepository


class OutboxRepository(PostgresRepository[OutboxMessage]):
    model = OutboxMessage

    async def claim_due(self, limit: int, channels: Collection[str]) -> Sequence[OutboxMessage]:
        """Pending messages whose time has come on `channels` (those this process has a backend
        for: during a rolling change of backends, an instance never fails a message another one
        can send), locked for this transaction. SKIP LOCKED: rows another dispatcher holds are
        passed over, so no message is sent by two at once."""
        statement = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.next_attempt_at) <= utcnow(),
                col(OutboxMessage.channel).in_(list(channels)),
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).all()

    async def _settle(self, message_id: uuid.UUID, **values: object) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )

    async def mark_sent(
        self, message_id: uuid.UUID, attempts: int, provider_id: str | None
    ) -> None:
        await self._settle(
            message_id,
            status=OutboxStatus.SENT,
            attempts=attempts,
            sent_at=utcnow(),
            provider_message_id=provider_id,
            last_error=None,
            body_text=None,
            body_html=None,
        )

    async def mark_retry(
        self, message_id: uuid.UUID, attempts: int, error: str, at: datetime
    ) -> None:
        await self._settle(
            message_id, attempts=attempts, last_error=error[:500], next_attempt_at=at
        )

    async def mark_failed(self, message_id: uuid.UUID, attempts: int, error: str) -> None:
        await self._settle(
            message_id,
            status=OutboxStatus.FAILED,
            attempts=attempts,
            last_error=error[:500],
            body_text=None,
            body_html=None,
        )

    async def count_pending(self) -> int:
        """Messages waiting: a range of the (status, next_attempt_at) index, bounded by the
        backlog rather than by the outbox's whole history."""
        statement = select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        return int(await self.session.scalar(statement) or 0)

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        )
        counts = {status.value: 0 for status in OutboxStatus}
        counts.update({str(status): int(n) for status, n in rows})
        return counts
