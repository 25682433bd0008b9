"""Making a change of someone's effective permissions take effect at once."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.users.repository import UserRepository


async def bump_authz_versions(
    session: AsyncSession,
    state: AuthStateRepository,
    users: Select[uuid.UUID] | Collection[uuid.UUID],
) -> None:
    """Bump the users' `authz_version` in the caller's transaction and raise it in Redis before
    that transaction commits: a Redis failure aborts the change (fail closed), and from the
    commit on every token minted before is refused. Should the transaction then roll back,
    Redis is merely ahead; the next login or refresh of those users catches PostgreSQL up
    (`AuthService._grant`), costing them one refresh."""
    versions = await UserRepository(session).bump_authz_versions(users)
    await state.raise_authz_versions(versions)
