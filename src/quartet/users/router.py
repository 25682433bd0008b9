"""/users (seed 004's user administration)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from quartet.auth.dependencies import CurrentUser
from quartet.core.errors import responses
from quartet.core.pagination import Limit, Offset, OffsetPage
from quartet.erasure.service import DELETED
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission
from quartet.rbac.errors import UserNotFoundError
from quartet.stores.dependencies import DbSession
from quartet.users.dependencies import UserAdminServiceDep
from quartet.users.errors import IdentifierTakenError, SuperuserOnlyError
from quartet.users.permissions import USERS_READ
from quartet.users.queries import SortField, UserQuery
from quartet.users.schemas import Status, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], responses=responses(*PERMISSION_ERRORS))


@router.get(
    "/", dependencies=[RequirePermission(USERS_READ)], summary="Search and list users (users.read)"
)
async def list_users(
    service: UserAdminServiceDep,
    db: DbSession,
    search: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="part of the email, name or username"),
    ] = None,
    user_status: Annotated[Status | Literal["deleted"] | None, Query(alias="status")] = None,
    is_active: bool | None = None,
    group_id: Annotated[uuid.UUID | None, Query(description="members of this group")] = None,
    sort: SortField = "created_at",
    order: Literal["asc", "desc"] = "desc",
    limit: Limit = 20,
    offset: Offset = 0,
) -> OffsetPage[UserPublic]:
    """Filter by text, status, activity or group, sorted as asked; offset-paginated."""
    query = UserQuery(
        search=search,
        status=user_status,
        is_active=is_active,
        group_id=group_id,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return OffsetPage[UserPublic].model_validate(await service.search(db, query))


@router.get(
    "/{user_id}",
    responses=responses(UserNotFoundError),
    summary="One user (themself, or users.read; anyone else: 404)",
)
async def get_user(
    user_id: uuid.UUID, caller: CurrentUser, service: UserAdminServiceDep, db: DbSession
) -> UserPublic:
    """Someone else needs users.read; without it they are a 404, as an unknown id is."""
    return UserPublic.model_validate(await service.get(db, caller, user_id))


@router.put(
    "/{user_id}",
    responses=responses(UserNotFoundError, IdentifierTakenError, SuperuserOnlyError),
    summary="Update a user: themself their profile fields; users.update any field but "
    "is_superuser, which only a superuser changes",
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, caller: CurrentUser, service: UserAdminServiceDep
) -> UserPublic:
    """Changes only the fields given; an email, username or phone already taken is a 409."""
    return UserPublic.model_validate(await service.update(caller, user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(UserNotFoundError, SuperuserOnlyError),
    summary=f"Delete a user (themself, or users.delete): status {DELETED!r} and every token "
    "refused at once, then erased from all four stores (see GET /erasures)",
)
async def delete_user(
    user_id: uuid.UUID, caller: CurrentUser, service: UserAdminServiceDep
) -> None:
    """Answers at once; the erasure from every store follows in the background."""
    await service.delete(caller, user_id)
