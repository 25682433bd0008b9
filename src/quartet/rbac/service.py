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
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.auth.tokens import Principal
from quartet.core.errors import AppError, ValidationFailedError
from quartet.core.pagination import CursorPage
from quartet.rbac import errors
from quartet.rbac.models import Group, Membership, Permission
from quartet.rbac.permissions import RBAC_READ
from quartet.rbac.registry import category_of, is_declared
from quartet.rbac.repository import (
    CatalogueRepository,
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
E = TypeVar("E", Permission, Group)
GroupDetail = tuple[Group, Sequence[Permission], int]
"""A group, its permissions and how many members it has."""


@dataclass(frozen=True)
class _Catalogue(Generic[E]):
    """What tells the two catalogues apart in the rules they share: a missing entry is a 404,
    an entry the code relies on (`protected`) can be neither renamed nor deleted, and deleting
    one, or changing its `regrants_on` field (what decides what it gives), bumps its users
    (`affected`)."""

    repository: Callable[[AsyncSession], CatalogueRepository[E]]
    not_found: type[AppError]
    protected: Callable[[E], bool]
    protected_error: type[AppError]
    affected: Callable[[uuid.UUID], Select[uuid.UUID]]
    regrants_on: str


def _changed(entry: Permission | Group, changes: Mapping[str, Any], field: str) -> bool:
    return bool(changes.get(field, getattr(entry, field)) != getattr(entry, field))


_PERMISSIONS = _Catalogue[Permission](
    PermissionRepository,
    errors.PermissionNotFoundError,
    lambda permission: is_declared(permission.codename),  # the code checks its codename
    errors.DeclaredPermissionError,
    PermissionRepository.holders,
    "codename",  # what a token carries
)
_GROUPS = _Catalogue[Group](
    GroupRepository,
    errors.GroupNotFoundError,
    lambda group: group.is_system,
    errors.SystemGroupError,
    GroupRepository.members,
    "is_active",
)


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
            raise errors.CodenameTakenError() from error

    async def _bump(
        self, session: AsyncSession, users: Select[uuid.UUID] | Collection[uuid.UUID]
    ) -> None:
        await bump_authz_versions(session, self.state, users)

    @staticmethod
    def _ensure_holds(caller: Principal, permissions: Sequence[Permission]) -> None:
        missing = caller.lacking(p.codename for p in permissions)
        if missing is not None:
            raise errors.PermissionDeniedError(missing)

    @staticmethod
    async def _get(catalogue: _Catalogue[E], db: AsyncSession, entry_id: uuid.UUID) -> E:
        entry = await catalogue.repository(db).get_or_none(entry_id)
        if entry is None:
            raise catalogue.not_found()
        return entry

    async def _update(
        self,
        catalogue: _Catalogue[E],
        entry_id: uuid.UUID,
        changes: dict[str, Any],
        before_regrant: Callable[[AsyncSession, E], Awaitable[None]] | None = None,
    ) -> E:
        """A new codename is refused for a protected entry or one in use; a change of its
        `regrants_on` field bumps the entry's users (after `before_regrant`, which may refuse
        it)."""

        async def work(session: AsyncSession) -> E:
            entries = catalogue.repository(session)
            entry = await self._get(catalogue, session, entry_id)
            if _changed(entry, changes, "codename"):
                if catalogue.protected(entry):
                    raise catalogue.protected_error()
                if await entries.codename_taken(changes["codename"], other_than=entry.id):
                    raise errors.CodenameTakenError()
            if _changed(entry, changes, catalogue.regrants_on):
                if before_regrant is not None:
                    await before_regrant(session, entry)
                await self._bump(session, catalogue.affected(entry.id))
            return await entries.update(entry, changes)

        return await self._unique(work)

    async def _delete(self, catalogue: _Catalogue[E], entry_id: uuid.UUID) -> None:
        """Unless it is protected; the users it gave permissions to are bumped, and its
        group_permissions and user_groups rows cascade."""

        async def work(session: AsyncSession) -> None:
            entry = await self._get(catalogue, session, entry_id)
            if catalogue.protected(entry):
                raise catalogue.protected_error()
            await self._bump(session, catalogue.affected(entry.id))
            await catalogue.repository(session).delete(entry)

        await self.tx.run(work)

    # -- permissions -----------------------------------------------------------------------

    async def list_permissions(
        self, db: AsyncSession, *, category: str | None, limit: int, cursor: str | None
    ) -> CursorPage[Permission]:
        return await PermissionRepository(db).page(category=category, limit=limit, cursor=cursor)

    async def get_permission(self, db: AsyncSession, permission_id: uuid.UUID) -> Permission:
        return await self._get(_PERMISSIONS, db, permission_id)

    async def create_permission(self, data: PermissionIn) -> Permission:
        async def work(session: AsyncSession) -> Permission:
            permissions = PermissionRepository(session)
            if await permissions.codename_taken(data.codename):
                raise errors.CodenameTakenError()
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
        return await self._update(_PERMISSIONS, permission_id, data.changes())

    async def delete_permission(self, permission_id: uuid.UUID) -> None:
        await self._delete(_PERMISSIONS, permission_id)

    # -- groups ----------------------------------------------------------------------------

    async def list_groups(
        self, db: AsyncSession, *, limit: int, cursor: str | None
    ) -> CursorPage[Group]:
        return await GroupRepository(db).paginate(limit=limit, cursor=cursor)

    async def get_group(self, db: AsyncSession, group_id: uuid.UUID) -> Group:
        return await self._get(_GROUPS, db, group_id)

    async def group_detail(self, db: AsyncSession, group_id: uuid.UUID) -> GroupDetail:
        group = await self.get_group(db, group_id)
        groups = GroupRepository(db)
        return group, await groups.permissions_of(group.id), await groups.member_count(group.id)

    async def create_group(self, data: GroupIn) -> Group:
        async def work(session: AsyncSession) -> Group:
            groups = GroupRepository(session)
            if await groups.codename_taken(data.codename):
                raise errors.CodenameTakenError()
            return await groups.create(Group(**data.model_dump()))

        return await self._unique(work)

    async def update_group(
        self, caller: Principal, group_id: uuid.UUID, data: GroupUpdate
    ) -> Group:
        """(De)activating changes what its members may do: they are bumped. Activating it
        needs every permission it grants."""
        changes = data.changes()

        async def may_activate(session: AsyncSession, group: Group) -> None:
            if changes["is_active"]:
                self._ensure_holds(caller, await GroupRepository(session).permissions_of(group.id))

        return await self._update(_GROUPS, group_id, changes, may_activate)

    async def delete_group(self, group_id: uuid.UUID) -> None:
        await self._delete(_GROUPS, group_id)

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
                raise errors.PermissionNotFoundError("The group does not have that permission")
            await self._bump(session, groups.members(group.id))

        await self.tx.run(work)

    # -- users and their groups ------------------------------------------------------------

    @staticmethod
    async def _visible_user(db: AsyncSession, caller: Principal, user_id: uuid.UUID) -> User:
        """The user, if the caller may see their groups (themself, or with rbac.read); anyone
        else cannot tell another user from no user."""
        if caller.user_id != user_id and not caller.has(RBAC_READ):
            raise errors.UserNotFoundError()
        user = await UserRepository(db).get_or_none(user_id)
        if user is None:
            raise errors.UserNotFoundError()
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
                raise errors.UserNotFoundError()
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
                raise errors.GroupNotFoundError("The user is not in that group")
            await self._bump(session, [user_id])

        await self.tx.run(work)
