"""Posts and likes. A like is keyed by (user_id, post_id), so "one like per user and post" is
the primary key's job rather than a check the application makes first."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Text, func
from sqlmodel import Field, SQLModel

from quartet.core.clock import utcnow
from quartet.stores.sql import UUIDModel

CONTENT_MAX_CHARS = 10_000


class Post(UUIDModel, table=True):
    __tablename__ = "posts"
    __table_args__ = (
        # An author's posts newest first: `author_id = ? AND id < cursor ORDER BY id DESC`.
        Index("ix_posts_author_id_id", "author_id", "id"),
        CheckConstraint(
            f"char_length(content) BETWEEN 1 AND {CONTENT_MAX_CHARS}", name="content_length"
        ),
    )

    author_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    content: str = Field(sa_column=Column(Text, nullable=False))


class Like(SQLModel, table=True):
    __tablename__ = "likes"
    __table_args__ = (
        # Counting a post's likes (index-only) and listing its likers newest first.
        Index("ix_likes_post_id_created_at_user_id", "post_id", "created_at", "user_id"),
    )

    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    post_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False),
    )
