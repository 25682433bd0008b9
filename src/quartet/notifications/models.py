"""The outbox: every message to a user is a row written in the transaction that caused it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, ForeignKey, Index, Text
from sqlmodel import Field

from quartet.core.clock import utcnow
from quartet.stores.sql import UUIDModel


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(UUIDModel, table=True):
    """One rendered message. The bodies (which may carry a code or link) are cleared once the
    message is final, so the table keeps no live credential after delivery."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    kind: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=254)
    subject: str | None = Field(default=None, max_length=300)
    body_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    idempotency_key: str = Field(max_length=64, unique=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    last_error: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=128)
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True),
    )
