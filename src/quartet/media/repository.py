"""Media rows in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from quartet.core.pagination import CursorPage
from quartet.media.models import Media
from quartet.stores.errors import MissingReferenceError
from quartet.stores.sql import PostgresRepository


class MediaRepository(PostgresRepository[Media]):
    model = Media

    async def add(self, media: Media) -> Media:
        try:
            return await self.create(media)
        except IntegrityError as error:
            # The only foreign key is the owner: the account was deleted meanwhile.
            raise MissingReferenceError("users") from error

    async def page(
        self, owner_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> CursorPage[Media]:
        """The owner's media newest first (UUIDv7 order)."""
        statement = select(Media).where(col(Media.owner_id) == owner_id)
        return await self.paginate(limit=limit, cursor=cursor, statement=statement)

    async def remove(self, media_id: uuid.UUID) -> str | None:
        """Delete the row; returns its storage key, or None when it was already gone."""
        statement = delete(Media).where(col(Media.id) == media_id).returning(col(Media.storage_key))
        return await self.session.scalar(statement)

    async def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` a row still names."""
        statement = select(col(Media.storage_key)).where(col(Media.storage_key).in_(keys))
        return set((await self.session.scalars(statement)).all())
