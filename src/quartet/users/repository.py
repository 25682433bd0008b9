from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Literal

from sqlalchemy import Select, exists, or_, select, update
from sqlmodel import col

from quartet.core.pagination import OffsetPage
from quartet.stores.errors import RecordNotFoundError
from quartet.stores.sql import PostgresRepository
from quartet.users.models import User
from quartet.users.queries import UserQuery

Identifier = Literal["email", "username", "phone"]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserRepository(PostgresRepository[User]):
    model = User

    async def get_by(self, field: Identifier, value: str) -> User | None:
        column = getattr(User, field)
        return (await self.session.scalars(select(User).where(column == value))).first()

    async def is_taken(self, field: Identifier, value: str) -> bool:
        column = getattr(User, field)
        return bool(await self.session.scalar(select(exists().where(column == value))))

    async def get_locked(self, user_id: uuid.UUID, *, shared: bool = False) -> User:
        """The row, locked until the transaction ends (shared: against writers only), so no
        change of the user's authorisation can commit while tokens are being minted."""
        statement = select(User).where(col(User.id) == user_id).with_for_update(read=shared)
        statement = statement.execution_options(populate_existing=True)
        user = (await self.session.scalars(statement)).first()
        if user is None:
            raise RecordNotFoundError("User not found")
        return user

    async def set_authz_version(self, user_id: uuid.UUID, version: int) -> None:
        await self.session.execute(
            update(User).where(col(User.id) == user_id).values(authz_version=version)
        )

    async def bump_authz_versions(
        self, user_ids: Select[uuid.UUID] | Collection[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """authz_version + 1 for these users; returns their new versions."""
        statement = (
            update(User)
            .where(col(User.id).in_(user_ids))
            .values(authz_version=col(User.authz_version) + 1)
            .returning(col(User.id), col(User.authz_version))
            .execution_options(synchronize_session=False)
        )
        return {row[0]: row[1] for row in (await self.session.execute(statement)).all()}

    async def search(
        self, query: UserQuery, member_of: Select[uuid.UUID] | None
    ) -> OffsetPage[User]:
        """One page of users matching `query` (ordered, ties broken by id) and the total."""
        conditions = []
        if query.search:
            pattern = f"%{_escape_like(query.search)}%"
            conditions.append(
                or_(
                    col(User.email).ilike(pattern, escape="\\"),
                    col(User.full_name).ilike(pattern, escape="\\"),
                    col(User.username).ilike(pattern, escape="\\"),
                )
            )
        if query.status is not None:
            conditions.append(col(User.status) == query.status)
        if query.is_active is not None:
            conditions.append(col(User.is_active).is_(query.is_active))
        if member_of is not None:
            conditions.append(col(User.id).in_(member_of))
        sort = getattr(User, query.sort)
        order = col(sort).desc().nulls_last() if query.descending else col(sort).asc().nulls_last()
        tiebreak = col(User.id).desc() if query.descending else col(User.id).asc()
        return await self.offset_page(
            where=conditions, order_by=(order, tiebreak), limit=query.limit, offset=query.offset
        )
