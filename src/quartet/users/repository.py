from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select

from quartet.stores.sql import PostgresRepository
from quartet.users.models import User

Identifier = Literal["email", "username", "phone"]


class UserRepository(PostgresRepository[User]):
    model = User

    async def get_by(self, field: Identifier, value: str) -> User | None:
        column = getattr(User, field)
        return (await self.session.scalars(select(User).where(column == value))).first()

    async def is_taken(self, field: Identifier, value: str) -> bool:
        column = getattr(User, field)
        return bool(await self.session.scalar(select(exists().where(column == value))))
