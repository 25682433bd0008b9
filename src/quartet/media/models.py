"""The `media` table: one row per stored object. The object is written first and the row
committed after it, so a row always names an object; an object without a row is an orphan the
sweep removes."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field

from quartet.stores.sql import UUIDModel

FILENAME_MAX_CHARS = 255
SOURCE_URL_MAX_CHARS = 2048


class Media(UUIDModel, table=True):
    __tablename__ = "media"
    __table_args__ = (
        # The owner's media newest first: `owner_id = ? AND id < cursor ORDER BY id DESC`.
        Index("ix_media_owner_id_id", "owner_id", "id"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("kind IN ('image', 'video', 'document')", name="kind"),
        CheckConstraint(
            "(width IS NULL) = (height IS NULL) AND (width IS NULL OR (width > 0 AND height > 0))",
            name="dimensions",
        ),
    )

    owner_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    storage_key: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    content_type: str = Field(sa_column=Column(String(100), nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    width: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    height: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    filename: str | None = Field(
        default=None, sa_column=Column(String(FILENAME_MAX_CHARS), nullable=True)
    )
    source_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
