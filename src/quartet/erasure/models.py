"""`account_erasures`: one row per account being (or having been) erased.

While pending it keeps what the cleaners need to find the account's traces (`user_id`, and the
identifiers OTP and lockout keys are derived from); once every store is clean both are cleared,
and the row's own id stays as the anonymised reference the audit rows carry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import String
from sqlmodel import Field

from quartet.stores.sql import UUIDModel

STORES = ("postgres", "redis", "mongodb", "cassandra")
"""The order a run cleans them in: PostgreSQL first, so the account is gone for every login."""


class AccountErasure(UUIDModel, table=True):
    __tablename__ = "account_erasures"
    __table_args__ = (
        Index(
            "ix_account_erasures_pending",
            "next_attempt_at",
            postgresql_where=text("completed_at IS NULL"),
        ),
    )

    user_id: uuid.UUID | None = Field(default=None)
    identifiers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    requested_by: uuid.UUID | None = Field(default=None)
    done: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(16)), nullable=False, server_default="{}"),
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    @property
    def pending(self) -> list[str]:
        return [s for s in STORES if s not in self.done]
