"""profile and settings columns on users, account_erasures, indexes for the dashboard

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.String(length=500), nullable=True))
    op.add_column("users", sa.Column("profile_picture_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_profile_picture_id_media"),
        "users",
        "media",
        ["profile_picture_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column(
        "users",
        sa.Column(
            "profile_visibility", sa.String(length=10), server_default="public", nullable=False
        ),
    )
    for name, default in (
        ("show_email", "false"),
        ("show_phone", "false"),
        ("show_country", "true"),
    ):
        op.add_column(
            "users", sa.Column(name, sa.Boolean(), server_default=sa.text(default), nullable=False)
        )
    op.add_column(
        "users", sa.Column("theme", sa.String(length=10), server_default="system", nullable=False)
    )
    op.add_column("users", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    # the dashboard: growth scans a created_at range; recent sign-ins read the newest logins
    op.create_index("ix_users_created_at", "users", ["created_at"], unique=False)
    op.create_index(
        "ix_audit_logs_action_created_at", "audit_logs", ["action", "created_at"], unique=False
    )

    op.create_table(
        "account_erasures",
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
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("identifiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column(
            "done", postgresql.ARRAY(sa.String(length=16)), server_default="{}", nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_erasures")),
    )
    op.create_index(
        "ix_account_erasures_pending",
        "account_erasures",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("completed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_account_erasures_pending",
        table_name="account_erasures",
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.drop_table("account_erasures")
    op.drop_index("ix_audit_logs_action_created_at", table_name="audit_logs")
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_constraint(op.f("fk_users_profile_picture_id_media"), "users", type_="foreignkey")
    for name in (
        "deactivated_at",
        "theme",
        "show_country",
        "show_phone",
        "show_email",
        "profile_visibility",
        "profile_picture_id",
        "bio",
    ):
        op.drop_column("users", name)
