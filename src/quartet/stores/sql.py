"""SQLModel foundations: metadata naming convention, the UUIDv7/timestamps base, and the generic
repository every PostgreSQL repository builds on (the same verbs everywhere)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Field, SQLModel, col

from quartet.core.clock import utcnow
from quartet.core.ids import uuid7
from quartet.core.pagination import UUID_KEYS, CursorPage, OffsetPage, keyset_page
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
    """get / get_or_none / paginate / offset_page / create / update / delete over one model, in
    the caller's session. It flushes (so constraint errors surface here) but never commits."""

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

    async def paginate(
        self, *, limit: int, cursor: str | None, statement: Select[Any] | None = None
    ) -> CursorPage[M]:
        """The rows of `statement` (default: all) newest first by UUIDv7, `limit` a page."""
        query = statement if statement is not None else select(self.model)

        async def fetch(before: uuid.UUID | None, count: int) -> Sequence[M]:
            page = query if before is None else query.where(col(self.model.id) < before)
            page = page.order_by(col(self.model.id).desc()).limit(count)
            rows: Sequence[M] = (await self.session.scalars(page)).all()
            return rows

        return await keyset_page(
            fetch, limit=limit, cursor=cursor, keys=UUID_KEYS, key_of=lambda row: row.id
        )

    async def offset_page(
        self,
        *,
        where: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any] | Mapped[Any]],
        limit: int,
        offset: int,
    ) -> OffsetPage[M]:
        """The rows matching `where` in the caller's order, `limit` from `offset`, and how many
        match in all (for lists sorted by a field the client picks)."""
        page = select(self.model).where(*where).order_by(*order_by).limit(limit).offset(offset)
        rows = (await self.session.scalars(page)).all()
        count = select(func.count()).select_from(self.model).where(*where)
        total = int(await self.session.scalar(count) or 0)
        return OffsetPage.model_construct(items=list(rows), total=total, limit=limit, offset=offset)

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


async def delete_one(session: AsyncSession, table: type[UUIDModel], **columns: object) -> bool:
    """Delete the row whose `columns` have these values (a link table's pair); True only when
    there was one."""
    statement = delete(table).filter_by(**columns).returning(col(table.id))
    return (await session.scalar(statement)) is not None
