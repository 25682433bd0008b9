"""Permissions, groups and memberships in PostgreSQL, and the queries authorisation needs: a
user's effective permission set, and which users a change affects (whose `authz_version` the
service then bumps in the same transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.core.ids import uuid7
from quartet.core.pagination import CursorPage
from quartet.rbac.models import Group, GroupPermission, Membership, Permission, UserGroup
from quartet.stores.sql import PostgresRepository, delete_one
from quartet.users.models import User

C = TypeVar("C", Permission, Group)


class CatalogueRepository(PostgresRepository[C]):
    """What permissions and groups share: lookups by id and by their unique codename."""

    async def by_ids(self, ids: Collection[uuid.UUID]) -> Sequence[C]:
        statement = select(self.model).where(col(self.model.id).in_(ids))
        return (await self.session.scalars(statement)).all()

    async def by_codenames(self, codenames: Collection[str]) -> Sequence[C]:
        statement = select(self.model).where(col(self.model.codename).in_(codenames))
        return (await self.session.scalars(statement)).all()

    async def codename_taken(self, codename: str, *, other_than: uuid.UUID | None = None) -> bool:
        statement = select(col(self.model.id)).where(col(self.model.codename) == codename)
        if other_than is not None:
            statement = statement.where(col(self.model.id) != other_than)
        return (await self.session.scalar(statement)) is not None


class PermissionRepository(CatalogueRepository[Permission]):
    model = Permission

    async def page(
        self, *, category: str | None, limit: int, cursor: str | None
    ) -> CursorPage[Permission]:
        statement = select(Permission)
        if category is not None:
            statement = statement.where(col(Permission.category) == category)
        return await self.paginate(limit=limit, cursor=cursor, statement=statement)

    async def all(self) -> Sequence[Permission]:
        statement = select(Permission).order_by(col(Permission.codename))
        return (await self.session.scalars(statement)).all()

    async def insert_missing(self, rows: Sequence[Permission]) -> list[uuid.UUID]:
        """Insert the permissions whose codename is new; returns the ids inserted."""
        if not rows:
            return []
        statement = (
            insert(Permission)
            .values(
                [
                    {
                        "id": p.id,
                        "codename": p.codename,
                        "name": p.name,
                        "description": p.description,
                        "category": p.category,
                    }
                    for p in rows
                ]
            )
            .on_conflict_do_nothing(index_elements=["codename"])
            .returning(col(Permission.id))
        )
        return list((await self.session.scalars(statement)).all())

    @staticmethod
    def holders(permission_id: uuid.UUID) -> Select[uuid.UUID]:
        """Users granted the permission through any group (active or not)."""
        return (
            select(col(UserGroup.user_id))
            .join(GroupPermission, col(GroupPermission.group_id) == col(UserGroup.group_id))
            .where(col(GroupPermission.permission_id) == permission_id)
        )

    async def effective_codenames(self, user_id: uuid.UUID) -> frozenset[str]:
        """What the user's active groups grant."""
        statement = (
            select(col(Permission.codename))
            .distinct()
            .join(GroupPermission, col(GroupPermission.permission_id) == col(Permission.id))
            .join(Group, col(Group.id) == col(GroupPermission.group_id))
            .join(UserGroup, col(UserGroup.group_id) == col(Group.id))
            .where(col(UserGroup.user_id) == user_id, col(Group.is_active).is_(True))
        )
        return frozenset((await self.session.scalars(statement)).all())

    async def versioned_codenames(self, user_id: uuid.UUID) -> tuple[int, frozenset[str]] | None:
        """The user's authz_version and what their active groups grant, read by one statement
        (so from one snapshot); None for an unknown user."""
        granted = (
            select(col(UserGroup.user_id), col(Permission.codename))
            .join(Group, col(Group.id) == col(UserGroup.group_id))
            .join(GroupPermission, col(GroupPermission.group_id) == col(Group.id))
            .join(Permission, col(Permission.id) == col(GroupPermission.permission_id))
            .where(col(UserGroup.user_id) == user_id, col(Group.is_active).is_(True))
            .subquery()
        )
        statement = (
            select(col(User.authz_version), granted.c.codename)
            .outerjoin(granted, granted.c.user_id == col(User.id))
            .where(col(User.id) == user_id)
        )
        rows = (await self.session.execute(statement)).all()
        if not rows:
            return None
        return rows[0][0], frozenset(row[1] for row in rows if row[1] is not None)

    async def effective(self, user_id: uuid.UUID) -> Sequence[Permission]:
        statement = (
            select(Permission)
            .where(
                col(Permission.id).in_(
                    select(col(GroupPermission.permission_id))
                    .join(Group, col(Group.id) == col(GroupPermission.group_id))
                    .join(UserGroup, col(UserGroup.group_id) == col(Group.id))
                    .where(col(UserGroup.user_id) == user_id, col(Group.is_active).is_(True))
                )
            )
            .order_by(col(Permission.codename))
        )
        return (await self.session.scalars(statement)).all()


class GroupRepository(CatalogueRepository[Group]):
    model = Group

    async def permissions_of(self, group_id: uuid.UUID) -> Sequence[Permission]:
        statement = (
            select(Permission)
            .join(GroupPermission, col(GroupPermission.permission_id) == col(Permission.id))
            .where(col(GroupPermission.group_id) == group_id)
            .order_by(col(Permission.codename))
        )
        return (await self.session.scalars(statement)).all()

    async def grant(self, group_id: uuid.UUID, permission_ids: Collection[uuid.UUID]) -> int:
        """Add permissions to a group (idempotent); returns how many were new."""
        if not permission_ids:
            return 0
        statement = (
            insert(GroupPermission)
            .values(
                [
                    {"id": uuid7(), "group_id": group_id, "permission_id": pid}
                    for pid in permission_ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["group_id", "permission_id"])
            .returning(col(GroupPermission.id))
        )
        return len((await self.session.scalars(statement)).all())

    async def revoke(self, group_id: uuid.UUID, permission_id: uuid.UUID) -> bool:
        return await delete_one(
            self.session, GroupPermission, group_id=group_id, permission_id=permission_id
        )

    @staticmethod
    def members(group_id: uuid.UUID) -> Select[uuid.UUID]:
        return select(col(UserGroup.user_id)).where(col(UserGroup.group_id) == group_id)

    async def member_count(self, group_id: uuid.UUID) -> int:
        statement = (
            select(func.count()).select_from(UserGroup).where(col(UserGroup.group_id) == group_id)
        )
        return int(await self.session.scalar(statement) or 0)


class MembershipRepository:
    """`user_groups` rows: which groups a user is in, who put them there and when."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_user(self, user_id: uuid.UUID) -> list[Membership]:
        statement = (
            select(Group, col(UserGroup.assigned_at), col(UserGroup.assigned_by))
            .join(UserGroup, col(UserGroup.group_id) == col(Group.id))
            .where(col(UserGroup.user_id) == user_id)
            .order_by(col(Group.codename))
        )
        rows = (await self.session.execute(statement)).all()
        return [Membership(group, at, by) for group, at, by in rows]

    async def add(
        self, user_id: uuid.UUID, group_ids: Collection[uuid.UUID], by: uuid.UUID | None
    ) -> int:
        """Idempotent (concurrent adds of the same pair leave one row); returns how many rows
        were new."""
        if not group_ids:
            return 0
        statement = (
            insert(UserGroup)
            .values(
                [
                    {"id": uuid7(), "user_id": user_id, "group_id": gid, "assigned_by": by}
                    for gid in group_ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["user_id", "group_id"])
            .returning(col(UserGroup.id))
        )
        return len((await self.session.scalars(statement)).all())

    async def add_by_codename(self, user_id: uuid.UUID, codename: str) -> None:
        """Join the group named `codename` if it exists (the default group at registration)."""
        group_id = await self.session.scalar(
            select(col(Group.id)).where(col(Group.codename) == codename)
        )
        if group_id is not None:
            await self.add(user_id, [group_id], None)

    async def remove(self, user_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        return await delete_one(self.session, UserGroup, user_id=user_id, group_id=group_id)

    async def remove_all(self, user_id: uuid.UUID) -> int:
        statement = (
            delete(UserGroup).where(col(UserGroup.user_id) == user_id).returning(col(UserGroup.id))
        )
        return len((await self.session.scalars(statement)).all())
