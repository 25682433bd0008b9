from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, UniqueConstraint
from sqlmodel import Field

from quartet.core.clock import utcnow
from quartet.stores.sql import UUIDModel


class OAuthIdentity(UUIDModel, table=True):
    """A provider account (provider, subject) that logs in as one user; one per provider per
    user, so `DELETE /auth/identities/{provider}` names exactly one."""

    __tablename__ = "oauth_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        UniqueConstraint("user_id", "provider"),
    )

    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=254)
    email_verified: bool = False
    linked_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
