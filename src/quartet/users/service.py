"""User administration (seed 004): list, read, update and delete accounts.

A caller always reaches their own account; another's needs users.read to be seen at all (else
404, as for an unknown id: no enumeration), users.update / users.delete to be changed, and only
a superuser changes a superuser's account or anyone's `is_superuser`. A change of `is_active` or
`is_superuser` changes what the user may do, so it bumps their authorization version in the
same transaction (their tokens are refused from the commit on). Deleting an account erases it
from all four stores (`quartet.erasure`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.auth.tokens import Principal
from quartet.core.pagination import OffsetPage
from quartet.erasure.service import DELETED, ErasureService
from quartet.rbac.errors import PermissionDeniedError, UserNotFoundError
from quartet.rbac.repository import GroupRepository
from quartet.rbac.versions import bump_authz_versions
from quartet.stores.postgres import TransactionRunner
from quartet.users.cache import ProfileCache
from quartet.users.errors import IdentifierTakenError, SuperuserOnlyError
from quartet.users.models import User
from quartet.users.permissions import USERS_DELETE, USERS_READ, USERS_UPDATE
from quartet.users.queries import UserQuery
from quartet.users.repository import Identifier, UserRepository
from quartet.users.schemas import PROFILE_FIELDS, UserUpdate

AUTHORISATION_FIELDS = ("is_active", "is_superuser")
IDENTIFIERS: tuple[Identifier, ...] = ("email", "username", "phone")


@dataclass(frozen=True)
class UserAdminService:
    tx: TransactionRunner
    state: AuthStateRepository
    profiles: ProfileCache
    erasure: ErasureService

    @staticmethod
    def _authorise(caller: Principal, user_id: uuid.UUID, needed: str | None) -> None:
        """Someone else's account: invisible without users.read, unchangeable without
        `needed`."""
        if caller.user_id == user_id:
            return
        if not caller.has(USERS_READ):
            raise UserNotFoundError()
        if needed is not None and not caller.has(needed):
            raise PermissionDeniedError(needed)

    async def search(self, db: AsyncSession, query: UserQuery) -> OffsetPage[User]:
        member_of = GroupRepository.members(query.group_id) if query.group_id else None
        return await UserRepository(db).search(query, member_of)

    async def get(self, db: AsyncSession, caller: Principal, user_id: uuid.UUID) -> User:
        self._authorise(caller, user_id, None)
        user = await UserRepository(db).get_or_none(user_id)
        if user is None:
            raise UserNotFoundError()
        return user

    async def update(self, caller: Principal, user_id: uuid.UUID, data: UserUpdate) -> User:
        changes = data.changes()
        self._authorise(caller, user_id, USERS_UPDATE)
        if "is_superuser" in changes and not caller.is_superuser:
            raise SuperuserOnlyError("Only a superuser may change is_superuser")
        if set(changes) - PROFILE_FIELDS and not caller.has(USERS_UPDATE):
            raise PermissionDeniedError(USERS_UPDATE)

        async def work(session: AsyncSession) -> User:
            users = UserRepository(session)
            user = await users.get_locked(user_id)
            self._protect_superuser(caller, user)
            for field in IDENTIFIERS:
                value = changes.get(field)
                changed = value is not None and value != getattr(user, field)
                if changed and await users.is_taken(field, str(value)):
                    raise IdentifierTakenError(field)
            authorisation_changed = any(
                f in changes and changes[f] != getattr(user, f) for f in AUTHORISATION_FIELDS
            )
            if changes.get("is_active") is True:
                changes["deactivated_at"] = None  # restored: login no longer refused
            await users.update(user, changes)
            if authorisation_changed:
                await bump_authz_versions(session, self.state, [user.id])
            return user

        try:
            user = await self.tx.run(work)
        except IntegrityError as error:  # a concurrent write took the identifier first
            raise IdentifierTakenError("email, username or phone") from error
        await self.profiles.invalidate(user_id)
        return user

    async def delete(self, caller: Principal, user_id: uuid.UUID) -> None:
        """The account stops working at once and is erased from every store (a store that is
        down is cleaned later by the erasure worker)."""
        self._authorise(caller, user_id, USERS_DELETE)

        async def work(session: AsyncSession) -> uuid.UUID:
            user = await UserRepository(session).get_locked(user_id)
            if user.status == DELETED:
                raise UserNotFoundError()
            self._protect_superuser(caller, user)
            erasure = await ErasureService.begin(session, self.state, user, caller.user_id)
            return erasure.id

        erasure_id = await self.tx.run(work)
        await self.profiles.invalidate(user_id)
        await self.erasure.run(erasure_id)

    @staticmethod
    def _protect_superuser(caller: Principal, user: User) -> None:
        if user.is_superuser and user.id != caller.user_id and not caller.is_superuser:
            raise SuperuserOnlyError()
