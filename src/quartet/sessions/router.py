"""`/session/{user_id}`: the seed's create / read / refresh / delete of an activity session."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from quartet.auth.dependencies import CurrentUser
from quartet.core.errors import responses
from quartet.rbac.dependencies import PERMISSION_ERRORS
from quartet.sessions.dependencies import SessionServiceDep
from quartet.sessions.errors import (
    ActivitySessionExistsError,
    ActivitySessionNotFoundError,
    UserNotFoundError,
)
from quartet.sessions.schemas import ActivitySessionOut
from quartet.stores.dependencies import DbSession

router = APIRouter(prefix="/session", tags=["sessions"], responses=responses(*PERMISSION_ERRORS))


@router.post(
    "/{user_id}",
    status_code=status.HTTP_201_CREATED,
    responses=responses(UserNotFoundError, ActivitySessionExistsError),
)
async def create_session(
    user_id: uuid.UUID, user: CurrentUser, service: SessionServiceDep, db: DbSession
) -> ActivitySessionOut:
    """Starts a Redis activity session for a user; one that exists already is a 409."""
    return ActivitySessionOut.model_validate(await service.create(db, user, user_id))


@router.get("/{user_id}", responses=responses(ActivitySessionNotFoundError))
async def get_session(
    user_id: uuid.UUID, user: CurrentUser, service: SessionServiceDep
) -> ActivitySessionOut:
    """A user's activity session; none (or expired) is a 404."""
    return ActivitySessionOut.model_validate(await service.get(user, user_id))


@router.put(
    "/{user_id}",
    responses=responses(ActivitySessionNotFoundError),
    summary="Refresh last_active and the TTL",
)
async def refresh_session(
    user_id: uuid.UUID, user: CurrentUser, service: SessionServiceDep
) -> ActivitySessionOut:
    """Moves last_active to now and restarts the session's TTL."""
    return ActivitySessionOut.model_validate(await service.refresh(user, user_id))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(user_id: uuid.UUID, user: CurrentUser, service: SessionServiceDep) -> None:
    """Idempotent: ends the user's activity session if there is one (with SESSION_IDLE_LOGOUT,
    their tokens too)."""
    await service.delete(user, user_id)
