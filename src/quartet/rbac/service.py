"""RBAC rules: the permission and group catalogue, group grants and memberships.

Every change that alters someone's effective permissions (a membership, a group's grants or
activity, a permission's codename or deletion, a group's deletion) bumps the affected users'
`authz_version` in the same transaction, and raises their version in Redis before that
transaction commits: a Redis failure aborts the change (fail closed), and from the commit on
their older tokens are refused. Their next refresh mints tokens with the new permission set.

Nobody grants what they do not hold: adding permissions to a group, (re)activating a group or
putting a user in one needs every permission the group would hand out (superusers hold all).
Stateless; writes run in `TransactionRunner` units of work (retried on deadlock), reads in the
request's session.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.auth.tokens import Principal
from quartet.core.errors import ValidationFailedError
from quartet.core.pagination import CursorPage
from quartet.rbac.errors import (
    CodenameTakenError,
    DeclaredPermissionError,
    GroupNotFoundError,
    PermissionDeniedError,
    PermissionNotFoundError,
    SystemGroupError,
    UserNotFoundError,
)
from quartet.rbac.models import Group, Membership, Permission
from quartet.rbac.permissions import RBAC_READ
from quartet.rbac.registry import category_of, is_declared
from quartet.rbac.repository import (
    GroupRepository,
    MembershipRepository,
    PermissionRepository,
)
from quartet.rbac.schemas import GroupIn, GroupUpdate, PermissionIn, PermissionUpdate
from quartet.rbac.versions import bump_authz_versions
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository

T = TypeVar("T")
GroupDetail = tuple[Group, Sequence[Permission], int]
"""A group, its permissions and how many members it has."""


class RbacService:
    def __init__(self, transactions: TransactionRunner, state: AuthStateRepository) -> None:
        self.tx = transactions
        self.state = state

    async def _unique(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """A write of a codename checked free first: a concurrent write of the same codename
        that won the race is a 409 too."""
        try:
            return await self.tx.run(work)
        except IntegrityError as error:
            raise CodenameTakenError() from error

    async def _bump(
        self, session: AsyncSession, users: Select[uuid.UUID] | Collection[uuid.UUID]
    ) -> None:
        await bump_authz_versions(session, self.state, users)

    @staticmethod
    def _ensure_holds(caller: Principal, permissions: Sequence[Permission]) -> None:
        missing = caller.lacking(p.codename for p in permissions)
        if missing is not None:
            raise PermissionDeniedError(missing)

    # -- permissions -----------------------------------------------------------------------

    async def list_permissions(
        self, db: AsyncSession, *, category: str | None, limit: int, cursor: str | None
    ) -> CursorPage[Permission]:
        return await PermissionRepository(db).page(category=category, limit=limit, cursor=cursor)

    async def get_permission(self, db: AsyncSession, permission_id: uuid.UUID) -> Permission:
        permission = await PermissionRepository(db).get_or_none(permission_id)
        if permission is None:
            raise PermissionNotFoundError()
        return permission

    async def create_permission(self, data: PermissionIn) -> Permission:
        async def work(session: AsyncSession) -> Permission:
            permissions = PermissionRepository(session)
            if await permissions.codename_taken(data.codename):
                raise CodenameTakenError()
            return await permissions.create(
                Permission(
                    codename=data.codename,
                    name=data.name,
                    description=data.description,
                    category=data.category or category_of(data.codename),
                )
            )

        return await self._unique(work)

    async def update_permission(
        self, permission_id: uuid.UUID, data: PermissionUpdate
    ) -> Permission:
        """A new codename changes what its holders may do: they are bumped. A codename the
        code checks cannot change (the check would no longer find it)."""

        async def work(session: AsyncSession) -> Permission:
            permissions = PermissionRepository(session)
            permission = await self.get_permission(session, permission_id)
            changes = data.changes()
            renamed = changes.get("codename", permission.codename) != permission.codename
            if renamed:
                if is_declared(permission.codename):
                    raise DeclaredPermissionError()
                if await permissions.codename_taken(changes["codename"], other_than=permission.id):
                    raise CodenameTakenError()
                await self._bump(session, permissions.holders(permission.id))
            return await permissions.update(permission, changes)

        return await self._unique(work)

    async def delete_permission(self, permission_id: uuid.UUID) -> None:
        async def work(session: AsyncSession) -> None:
            permissions = PermissionRepository(session)
            permission = await self.get_permission(session, permission_id)
            if is_declared(permission.codename):
                raise DeclaredPermissionError()
            await self._bump(session, permissions.holders(permission.id))
            await permissions.delete(permission)  # its group_permissions rows cascade

        await self.tx.run(work)

    # -- groups ----------------------------------------------------------------------------

    async def list_groups(
        self, db: AsyncSession, *, limit: int, cursor: str | None
    ) -> CursorPage[Group]:
        return await GroupRepository(db).paginate(limit=limit, cursor=cursor)

    async def get_group(self, db: AsyncSession, group_id: uuid.UUID) -> Group:
        group = await GroupRepository(db).get_or_none(group_id)
        if group is None:
            raise GroupNotFoundError()
        return group

    async def group_detail(self, db: AsyncSession, group_id: uuid.UUID) -> GroupDetail:
        group = await self.get_group(db, group_id)
        groups = GroupRepository(db)
        return group, await groups.permissions_of(group.id), await groups.member_count(group.id)

    async def create_group(self, data: GroupIn) -> Group:
        async def work(session: AsyncSession) -> Group:
            groups = GroupRepository(session)
            if await groups.codename_taken(data.codename):
                raise CodenameTakenError()
            return await groups.create(Group(**data.model_dump()))

        return await self._unique(work)

    async def update_group(
        self, caller: Principal, group_id: uuid.UUID, data: GroupUpdate
    ) -> Group:
        async def work(session: AsyncSession) -> Group:
            groups = GroupRepository(session)
            group = await self.get_group(session, group_id)
            changes = data.changes()
            codename = changes.get("codename", group.codename)
            if codename != group.codename:
                if group.is_system:
                    raise SystemGroupError()
                if await groups.codename_taken(codename, other_than=group.id):
                    raise CodenameTakenError()
            active = changes.get("is_active", group.is_active)
            if active != group.is_active:
                if active:
                    self._ensure_holds(caller, await groups.permissions_of(group.id))
                await self._bump(session, groups.members(group.id))
            return await groups.update(group, changes)

        return await self._unique(work)

    async def delete_group(self, group_id: uuid.UUID) -> None:
        async def work(session: AsyncSession) -> None:
            groups = GroupRepository(session)
            group = await self.get_group(session, group_id)
            if group.is_system:
                raise SystemGroupError()
            await self._bump(session, groups.members(group.id))
            await groups.delete(group)  # user_groups and group_permissions rows cascade

        await self.tx.run(work)

    async def grant(
        self, caller: Principal, group_id: uuid.UUID, permission_ids: Collection[uuid.UUID]
    ) -> GroupDetail:
        """Idempotent; answers the group as it is after the change."""

        async def work(session: AsyncSession) -> GroupDetail:
            groups = GroupRepository(session)
            group = await self.get_group(session, group_id)
            wanted = set(permission_ids)
            found = await PermissionRepository(session).by_ids(wanted)
            unknown = wanted - {p.id for p in found}
            if unknown:
                raise ValidationFailedError(
                    "unknown permission ids: " + ", ".join(sorted(str(i) for i in unknown))
                )
            self._ensure_holds(caller, found)
            if await groups.grant(group.id, wanted) and group.is_active:
                await self._bump(session, groups.members(group.id))
            return await self.group_detail(session, group.id)

        return await self.tx.run(work)

    async def revoke(self, group_id: uuid.UUID, permission_id: uuid.UUID) -> None:
        async def work(session: AsyncSession) -> None:
            groups = GroupRepository(session)
            group = await self.get_group(session, group_id)
            if not await groups.revoke(group.id, permission_id):
                raise PermissionNotFoundError("The group does not have that permission")
            await self._bump(session, groups.members(group.id))

        await self.tx.run(work)

    # -- users and their groups ------------------------------------------------------------

    @staticmethod
    async def _visible_user(db: AsyncSession, caller: Principal, user_id: uuid.UUID) -> User:
        """The user, if the caller may see their groups (themself, or with rbac.read); anyone
        else cannot tell another user from no user."""
        if caller.user_id != user_id and not caller.has(RBAC_READ):
            raise UserNotFoundError()
        user = await UserRepository(db).get_or_none(user_id)
        if user is None:
            raise UserNotFoundError()
        return user

    async def memberships(
        self, db: AsyncSession, caller: Principal, user_id: uuid.UUID
    ) -> list[Membership]:
        await self._visible_user(db, caller, user_id)
        return await MembershipRepository(db).of_user(user_id)

    async def effective(
        self, db: AsyncSession, caller: Principal, user_id: uuid.UUID
    ) -> tuple[bool, Sequence[Permission]]:
        """(is_superuser, permissions): a superuser's are every permission there is."""
        user = await self._visible_user(db, caller, user_id)
        permissions = PermissionRepository(db)
        if user.is_superuser:
            return True, await permissions.all()
        return False, await permissions.effective(user_id)

    async def assign(
        self, caller: Principal, user_id: uuid.UUID, group_ids: Collection[uuid.UUID]
    ) -> list[Membership]:
        """Idempotent: groups the user is already in stay as they were."""

        async def work(session: AsyncSession) -> list[Membership]:
            if await UserRepository(session).get_or_none(user_id) is None:
                raise UserNotFoundError()
            groups = GroupRepository(session)
            wanted = set(group_ids)
            found = await groups.by_ids(wanted)
            unknown = wanted - {g.id for g in found}
            if unknown:
                raise ValidationFailedError(
                    "unknown group ids: " + ", ".join(sorted(str(i) for i in unknown))
                )
            for group in found:
                self._ensure_holds(caller, await groups.permissions_of(group.id))
            memberships = MembershipRepository(session)
            if await memberships.add(user_id, wanted, caller.user_id):
                await self._bump(session, [user_id])
            return await memberships.of_user(user_id)

        return await self.tx.run(work)

    async def unassign(self, user_id: uuid.UUID, group_id: uuid.UUID) -> None:
        async def work(session: AsyncSession) -> None:
            if not await MembershipRepository(session).remove(user_id, group_id):
                raise GroupNotFoundError("The user is not in that group")
            await self._bump(session, [user_id])

        await self.tx.run(work)
