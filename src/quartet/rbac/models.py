"""Permissions, groups and the two many-to-many tables joining them to each other and to users.

Every foreign key cascades, so deleting a permission, a group or a user leaves no orphan row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, UniqueConstraint, func
from sqlmodel import Field

from quartet.core.clock import utcnow
from quartet.stores.sql import UUIDModel

CODENAME_MAX = 100
NAME_MAX = 150
DESCRIPTION_MAX = 500
CATEGORY_MAX = 50


class Permission(UUIDModel, table=True):
    __tablename__ = "permissions"
    __table_args__ = (Index("ix_permissions_category_id", "category", "id"),)

    codename: str = Field(max_length=CODENAME_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    category: str = Field(max_length=CATEGORY_MAX)


class Group(UUIDModel, table=True):
    """`is_system` groups (seeded) cannot be deleted nor renamed (their codename)."""

    __tablename__ = "groups"

    codename: str = Field(max_length=CODENAME_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    is_system: bool = False
    is_active: bool = True


def _joined(target: str, *, index: bool | None = None) -> Any:
    """A join table's required foreign key to `target`: its row goes when that row does."""
    return Field(
        sa_column=Column(ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index)
    )


class GroupPermission(UUIDModel, table=True):
    __tablename__ = "group_permissions"
    __table_args__ = (UniqueConstraint("group_id", "permission_id"),)

    group_id: uuid.UUID = _joined("groups.id")
    permission_id: uuid.UUID = _joined("permissions.id", index=True)


class UserGroup(UUIDModel, table=True):
    __tablename__ = "user_groups"
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    user_id: uuid.UUID = _joined("users.id")
    group_id: uuid.UUID = _joined("groups.id", index=True)
    assigned_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False),
    )
    assigned_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True),
    )


@dataclass(frozen=True)
class Membership:
    group: Group
    assigned_at: datetime
    assigned_by: uuid.UUID | None
