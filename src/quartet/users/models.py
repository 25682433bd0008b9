from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index
from sqlalchemy.dialects.postgresql import CITEXT
from sqlmodel import Field

import quartet.media.models  # noqa: F401 - registers `media`, which profile_picture_id references
from quartet.stores.sql import UUIDModel


class User(UUIDModel, table=True):
    """An account. `hashed_password` is null for OAuth/OTP-only accounts; `authz_version` is
    bumped whenever the effective permissions change (groups, their grants, is_superuser,
    is_active), which invalidates every token minted before."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_created_at", "created_at"),)  # dashboard growth

    email: str = Field(sa_type=CITEXT, unique=True, max_length=254)
    username: str | None = Field(default=None, sa_type=CITEXT, unique=True, max_length=32)
    phone: str | None = Field(default=None, unique=True, max_length=20)
    full_name: str | None = Field(default=None, max_length=200)
    hashed_password: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    is_email_verified: bool = False
    is_phone_verified: bool = False
    status: str = Field(default="active", max_length=20)
    auth_type: str = Field(default="password", max_length=20)
    language: str = Field(default="en", max_length=10)
    timezone: str = Field(default="UTC", max_length=64)
    country: str | None = Field(default=None, max_length=2)
    authz_version: int = 0
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # profile and settings (migration 0008)
    bio: str | None = Field(default=None, max_length=500)
    profile_picture_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            ForeignKey("media.id", ondelete="SET NULL", use_alter=True), nullable=True
        ),
    )
    profile_visibility: str = Field(default="public", max_length=10)
    show_email: bool = False
    show_phone: bool = False
    show_country: bool = True
    theme: str = Field(default="system", max_length=10)
    deactivated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    @property
    def roles(self) -> list[str]:
        return ["superuser"] if self.is_superuser else []
