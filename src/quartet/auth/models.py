from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey
from sqlmodel import Field, SQLModel

from quartet.core.clock import utcnow
from quartet.stores.sql import UUIDModel


class AuthSession(UUIDModel, table=True):
    """One login on one device. Holds only the hash of its current refresh token."""

    __tablename__ = "auth_sessions"

    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoke_reason: str | None = Field(default=None, max_length=32)
    user_agent: str | None = Field(default=None, max_length=512)
    ip: str | None = Field(default=None, max_length=64)
    refresh_token_hash: str = Field(max_length=64, unique=True)
    rotation_counter: int = 0


class SpentRefreshToken(SQLModel, table=True):
    """A refresh token already exchanged: presenting it again means it was stolen."""

    __tablename__ = "spent_refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("auth_sessions.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    spent_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
