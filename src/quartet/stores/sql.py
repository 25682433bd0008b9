"""SQLModel foundations: metadata naming convention, the UUIDv7/timestamps base, and the generic
repository every PostgreSQL repository builds on (the same verbs everywhere)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import Field, SQLModel, col

from quartet.core.clock import utcnow
from quartet.core.ids import uuid7
from quartet.stores.errors import RecordNotFoundError

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata


class UUIDModel(SQLModel):
    """Base for every table: UUIDv7 primary key and timezone-aware created/updated stamps."""

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "nullable": False},
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "onupdate": utcnow, "nullable": False},
    )


M = TypeVar("M", bound=UUIDModel)


class PostgresRepository(Generic[M]):
    """get / get_or_none / list / create / update / delete over one model, in the caller's
    session. It flushes (so constraint errors surface here) but never commits."""

    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_none(self, id_: uuid.UUID) -> M | None:
        return await self.session.get(self.model, id_)

    async def get(self, id_: uuid.UUID) -> M:
        found = await self.get_or_none(id_)
        if found is None:
            raise RecordNotFoundError(f"{self.model.__name__} not found")
        return found

    async def list(
        self, *, limit: int, before: uuid.UUID | None = None, statement: Select[Any] | None = None
    ) -> Sequence[M]:
        """Newest first by UUIDv7, `limit` rows strictly older than `before`."""
        query = statement if statement is not None else select(self.model)
        if before is not None:
            query = query.where(col(self.model.id) < before)
        query = query.order_by(col(self.model.id).desc()).limit(limit)
        rows: Sequence[M] = (await self.session.scalars(query)).all()
        return rows

    async def create(self, obj: M) -> M:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def update(self, obj: M, values: dict[str, Any]) -> M:
        for key, value in values.items():
            setattr(obj, key, value)
        obj.updated_at = utcnow()
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def delete(self, obj: M) -> None:
        await self.session.delete(obj)
        await self.session.flush()
