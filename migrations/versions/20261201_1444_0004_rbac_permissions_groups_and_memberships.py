"""rbac: permissions, groups, group permissions, user groups (all cascading), system groups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:44:41.822898+00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import uuid_utils
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The system groups a fresh database has (`quartet db seed` grants their default permissions);
# frozen here as they were at this revision.
SYSTEM_GROUPS = (
    ("admin", "Administrators", "Every permission"),
    ("moderator", "Moderators", "Moderate what users post"),
    ("shop_manager", "Shop managers", "Products, orders and sales statistics"),
    ("support", "Support", "Help users with their accounts, sessions and orders"),
    ("user", "Users", "Every registered user"),
)


def upgrade() -> None:
    op.create_table(
        "groups",
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
        sa.Column("codename", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("codename", name=op.f("uq_groups_codename")),
    )
    op.create_table(
        "permissions",
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
        sa.Column("codename", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("codename", name=op.f("uq_permissions_codename")),
    )
    op.create_index("ix_permissions_category_id", "permissions", ["category", "id"], unique=False)
    op.create_table(
        "group_permissions",
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
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("permission_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_permissions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permissions.id"],
            name=op.f("fk_group_permissions_permission_id_permissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_permissions")),
        sa.UniqueConstraint(
            "group_id", "permission_id", name=op.f("uq_group_permissions_group_id_permission_id")
        ),
    )
    op.create_index(
        op.f("ix_group_permissions_permission_id"),
        "group_permissions",
        ["permission_id"],
        unique=False,
    )
    op.create_table(
        "user_groups",
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
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("assigned_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_user_groups_assigned_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_user_groups_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_groups_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_groups")),
        sa.UniqueConstraint("user_id", "group_id", name=op.f("uq_user_groups_user_id_group_id")),
    )
    op.create_index(
        op.f("ix_user_groups_assigned_by"), "user_groups", ["assigned_by"], unique=False
    )
    op.create_index(op.f("ix_user_groups_group_id"), "user_groups", ["group_id"], unique=False)
    groups = sa.table(
        "groups",
        sa.column("id", sa.Uuid()),
        sa.column("codename", sa.String()),
        sa.column("name", sa.String()),
        sa.column("description", sa.String()),
        sa.column("is_system", sa.Boolean()),
        sa.column("is_active", sa.Boolean()),
    )
    op.bulk_insert(
        groups,
        [
            {
                "id": uuid.UUID(bytes=uuid_utils.uuid7().bytes),
                "codename": codename,
                "name": name,
                "description": description,
                "is_system": True,
                "is_active": True,
            }
            for codename, name, description in SYSTEM_GROUPS
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_user_groups_group_id"), table_name="user_groups")
    op.drop_index(op.f("ix_user_groups_assigned_by"), table_name="user_groups")
    op.drop_table("user_groups")
    op.drop_index(op.f("ix_group_permissions_permission_id"), table_name="group_permissions")
    op.drop_table("group_permissions")
    op.drop_index("ix_permissions_category_id", table_name="permissions")
    op.drop_table("permissions")
    op.drop_table("groups")
