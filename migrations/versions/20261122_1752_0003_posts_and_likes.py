"""posts and likes: posts by users, one like per (user, post), both cascading

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:52:16.020030+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "char_length(content) BETWEEN 1 AND 10000", name=op.f("ck_posts_content_length")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    # an author's posts newest first (UUIDv7 order): author_id = ? AND id < ? ORDER BY id DESC
    op.create_index("ix_posts_author_id_id", "posts", ["author_id", "id"], unique=False)
    op.create_table(
        "likes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_likes_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_likes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "post_id", name=op.f("pk_likes")),
    )
    # counting a post's likes (index-only) and listing its likers newest first
    op.create_index(
        "ix_likes_post_id_created_at_user_id",
        "likes",
        ["post_id", "created_at", "user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_likes_post_id_created_at_user_id", table_name="likes")
    op.drop_table("likes")
    op.drop_index("ix_posts_author_id_id", table_name="posts")
    op.drop_table("posts")
