"""/permissions, /groups and /users/{user_id}/groups|permissions (seed 003's permissions API)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from quartet.auth.dependencies import CurrentUser
from quartet.auth.tokens import Principal
from quartet.core.errors import ValidationFailedError, responses
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.rbac.dependencies import PERMISSION_ERRORS, RbacServiceDep, RequirePermission
from quartet.rbac.errors import (
    CodenameTakenError,
    DeclaredPermissionError,
    GroupNotFoundError,
    PermissionNotFoundError,
    SystemGroupError,
    UserNotFoundError,
)
from quartet.rbac.models import Membership
from quartet.rbac.permissions import RBAC_ASSIGN, RBAC_MANAGE, RBAC_READ
from quartet.rbac.schemas import (
    Category,
    GroupDetailOut,
    GroupIdsIn,
    GroupIn,
    GroupOut,
    GroupUpdate,
    MembershipOut,
    PermissionIdsIn,
    PermissionIn,
    PermissionOut,
    PermissionUpdate,
    UserPermissionsOut,
)
from quartet.rbac.service import GroupDetail
from quartet.stores.dependencies import DbSession

Reader = Annotated[Principal, RequirePermission(RBAC_READ)]
Manager = Annotated[Principal, RequirePermission(RBAC_MANAGE)]
Assigner = Annotated[Principal, RequirePermission(RBAC_ASSIGN)]

GUARDED = responses(*PERMISSION_ERRORS)

permissions = APIRouter(prefix="/permissions", tags=["rbac: permissions"], responses=GUARDED)
groups = APIRouter(prefix="/groups", tags=["rbac: groups"], responses=GUARDED)
users = APIRouter(prefix="/users", tags=["rbac: users"], responses=GUARDED)


def _membership(m: Membership) -> MembershipOut:
    return MembershipOut(
        group=GroupOut.model_validate(m.group), assigned_at=m.assigned_at, assigned_by=m.assigned_by
    )


# -- permissions ---------------------------------------------------------------------------


@permissions.get(
    "",
    responses=responses(ValidationFailedError),
    summary="Permissions, newest first, optionally of one category (rbac.read)",
)
async def list_permissions(
    _: Reader,
    service: RbacServiceDep,
    db: DbSession,
    category: Annotated[Category | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CursorPage[PermissionOut]:
    """Keyset-paginated with an opaque cursor."""
    page = await service.list_permissions(db, category=category, limit=limit, cursor=cursor)
    return CursorPage[PermissionOut].model_validate(page)


@permissions.get(
    "/{permission_id}",
    responses=responses(PermissionNotFoundError),
    summary="One permission (rbac.read)",
)
async def get_permission(
    permission_id: uuid.UUID, _: Reader, service: RbacServiceDep, db: DbSession
) -> PermissionOut:
    """The permission's codename, name, description and category."""
    return PermissionOut.model_validate(await service.get_permission(db, permission_id))


@permissions.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(CodenameTakenError),
    summary="A new permission, e.g. for a feature flag checked elsewhere (rbac.manage)",
)
async def create_permission(
    body: PermissionIn, _: Manager, service: RbacServiceDep
) -> PermissionOut:
    """A codename already in use is a 409 `codename_taken`."""
    return PermissionOut.model_validate(await service.create_permission(body))


@permissions.put(
    "/{permission_id}",
    responses=responses(PermissionNotFoundError, CodenameTakenError, DeclaredPermissionError),
    summary="Change a permission's name, description, category or (not for one the code "
    "checks) codename (rbac.manage)",
)
async def update_permission(
    permission_id: uuid.UUID, body: PermissionUpdate, _: Manager, service: RbacServiceDep
) -> PermissionOut:
    """Changes only the fields given; renaming a codename the code checks is a 409."""
    return PermissionOut.model_validate(await service.update_permission(permission_id, body))


@permissions.delete(
    "/{permission_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(PermissionNotFoundError, DeclaredPermissionError),
    summary="Delete a permission the code does not check; groups lose it (rbac.manage)",
)
async def delete_permission(permission_id: uuid.UUID, _: Manager, service: RbacServiceDep) -> None:
    """A permission the code checks cannot be deleted (409 `declared_permission`)."""
    await service.delete_permission(permission_id)


# -- groups --------------------------------------------------------------------------------


@groups.get(
    "", responses=responses(ValidationFailedError), summary="Groups, newest first (rbac.read)"
)
async def list_groups(
    _: Reader, service: RbacServiceDep, db: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> CursorPage[GroupOut]:
    """Keyset-paginated with an opaque cursor."""
    return CursorPage[GroupOut].model_validate(
        await service.list_groups(db, limit=limit, cursor=cursor)
    )


@groups.get(
    "/{group_id}",
    responses=responses(GroupNotFoundError),
    summary="One group with its permissions and member count (rbac.read)",
)
async def get_group(
    group_id: uuid.UUID, _: Reader, service: RbacServiceDep, db: DbSession
) -> GroupDetailOut:
    """The group with the permissions it grants and how many members it has."""
    return _detail(await service.group_detail(db, group_id))


def _detail(detail: GroupDetail) -> GroupDetailOut:
    group, granted, members = detail
    return GroupDetailOut(
        **GroupOut.model_validate(group).model_dump(),
        permissions=[PermissionOut.model_validate(p) for p in granted],
        member_count=members,
    )


@groups.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(CodenameTakenError),
    summary="A new group, without permissions (rbac.manage)",
)
async def create_group(body: GroupIn, _: Manager, service: RbacServiceDep) -> GroupOut:
    """A codename already in use is a 409 `codename_taken`."""
    return GroupOut.model_validate(await service.create_group(body))


@groups.put(
    "/{group_id}",
    responses=responses(GroupNotFoundError, CodenameTakenError, SystemGroupError),
    summary="Change a group's name, description, activity or (not a system group's) codename; "
    "an inactive group grants nothing (rbac.manage)",
)
async def update_group(
    group_id: uuid.UUID, body: GroupUpdate, caller: Manager, service: RbacServiceDep
) -> GroupOut:
    """Changes only the fields given; members' permissions follow on their next request."""
    return GroupOut.model_validate(await service.update_group(caller, group_id, body))


@groups.delete(
    "/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(GroupNotFoundError, SystemGroupError),
    summary="Delete a group that is not a system group; its members lose what it granted "
    "(rbac.manage)",
)
async def delete_group(group_id: uuid.UUID, _: Manager, service: RbacServiceDep) -> None:
    """A system group cannot be deleted (409 `system_group`)."""
    await service.delete_group(group_id)


@groups.post(
    "/{group_id}/permissions",
    responses=responses(GroupNotFoundError, ValidationFailedError),
    summary="Add permissions to a group (idempotent; you must hold them). To remove one: "
    "DELETE /groups/{group_id}/permissions/{permission_id} (rbac.manage)",
)
async def grant_permissions(
    group_id: uuid.UUID, body: PermissionIdsIn, caller: Manager, service: RbacServiceDep
) -> GroupDetailOut:
    """Only permissions the caller holds may be granted (403 otherwise)."""
    return _detail(await service.grant(caller, group_id, body.permission_ids))


@groups.delete(
    "/{group_id}/permissions/{permission_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(GroupNotFoundError, PermissionNotFoundError),
    summary="Remove a permission from a group; members lose it on their next request (rbac.manage)",
)
async def revoke_permission(
    group_id: uuid.UUID, permission_id: uuid.UUID, _: Manager, service: RbacServiceDep
) -> None:
    """A permission the group does not grant is a 404, as an unknown group is."""
    await service.revoke(group_id, permission_id)


# -- users and groups ----------------------------------------------------------------------


@users.get("/me/groups", summary="The caller's groups")
async def my_groups(
    user: CurrentUser, service: RbacServiceDep, db: DbSession
) -> list[MembershipOut]:
    """The groups the signed-in user belongs to."""
    return await user_groups(user.user_id, user, service, db)


@users.get("/me/permissions", summary="The caller's effective permissions")
async def my_permissions(
    user: CurrentUser, service: RbacServiceDep, db: DbSession
) -> UserPermissionsOut:
    """The codenames the signed-in user holds through active groups (all for a superuser)."""
    return await user_permissions(user.user_id, user, service, db)


@users.get(
    "/{user_id}/groups",
    responses=responses(UserNotFoundError),
    summary="A user's groups (themself, or rbac.read; anyone else: 404)",
)
async def user_groups(
    user_id: uuid.UUID, user: CurrentUser, service: RbacServiceDep, db: DbSession
) -> list[MembershipOut]:
    """Someone else's groups need rbac.read; without it they are a 404."""
    return [_membership(m) for m in await service.memberships(db, user, user_id)]


@users.get(
    "/{user_id}/permissions",
    responses=responses(UserNotFoundError),
    summary="A user's effective permissions (themself, or rbac.read; anyone else: 404)",
)
async def user_permissions(
    user_id: uuid.UUID, user: CurrentUser, service: RbacServiceDep, db: DbSession
) -> UserPermissionsOut:
    """Someone else's permissions need rbac.read; without it they are a 404."""
    is_superuser, granted = await service.effective(db, user, user_id)
    return UserPermissionsOut(
        user_id=user_id,
        is_superuser=is_superuser,
        permissions=[PermissionOut.model_validate(p) for p in granted],
    )


@users.post(
    "/{user_id}/groups",
    responses=responses(UserNotFoundError, ValidationFailedError),
    summary="Add a user to groups (idempotent; you must hold what they grant). To remove: "
    "DELETE /users/{user_id}/groups/{group_id} (rbac.assign)",
)
async def assign_groups(
    user_id: uuid.UUID, body: GroupIdsIn, caller: Assigner, service: RbacServiceDep
) -> list[MembershipOut]:
    """Only groups whose permissions the caller holds may be given (403 otherwise)."""
    return [_membership(m) for m in await service.assign(caller, user_id, body.group_ids)]


@users.delete(
    "/{user_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(GroupNotFoundError),
    summary="Remove a user from a group; they lose what it granted on their next request "
    "(rbac.assign)",
)
async def unassign_group(
    user_id: uuid.UUID, group_id: uuid.UUID, _: Assigner, service: RbacServiceDep
) -> None:
    """A group the user is not in is a 404."""
    await service.unassign(user_id, group_id)


router = APIRouter()
router.include_router(permissions)
router.include_router(groups)
router.include_router(users)
