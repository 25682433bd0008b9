"""Queueing a message: render it and add it to the outbox in the caller's transaction.

Nothing is sent here. The row commits (or rolls back) with the token, code or change it tells
the user about, and the dispatcher is woken once the transaction has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.core.ids import uuid7
from quartet.notifications.models import Channel, OutboxMessage
from quartet.notifications.repository import OutboxRepository
from quartet.notifications.templates import language_for, render
from quartet.settings import Settings
from quartet.stores.postgres import after_commit


class Notifier:
    def __init__(
        self, settings: Settings, channels: frozenset[str], wake: Callable[[], None]
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.wake = wake

    def available(self, channel: str) -> bool:
        """A backend is configured for the channel (email always is)."""
        return channel in self.channels

    async def enqueue(
        self,
        db: AsyncSession,
        *,
        kind: str,
        channel: Channel,
        recipient: str,
        context: dict[str, Any],
        language: str | None = None,
        user_id: uuid.UUID | None = None,
    ) -> OutboxMessage:
        lang = language_for(language)
        rendered = render(
            kind,
            lang,
            {"product": self.settings.PROJECT_NAME, "lang": lang, **context},
            email=channel == Channel.EMAIL,
        )
        message_id = uuid7()
        message = await OutboxRepository(db).create(
            OutboxMessage(
                id=message_id,
                kind=kind,
                channel=channel,
                recipient=recipient,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                idempotency_key=f"{kind}-{message_id}",
                user_id=user_id,
            )
        )
        after_commit(db, self.wake)
        return message
