"""Single-use email-link tokens, stored only as SHA-256 hashes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, ForeignKey, Index
from sqlmodel import Field

from quartet.stores.sql import UUIDModel


class LinkPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


class AccountToken(UUIDModel, table=True):
    """A link token: `used_at` once consumed, `revoked_at` once a newer one superseded it."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),)

    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
