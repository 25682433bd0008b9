"""Posts and likes in PostgreSQL.

Reads return ready-to-show views: one statement per page joins the author and computes each
post's like count and the caller's like in correlated subqueries over the likes indexes, so a
page costs the same number of round trips whatever its size. A like is written with
`INSERT ... ON CONFLICT DO NOTHING`, never read-then-write, so concurrent likes stay exact.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    RowMapping,
    Uuid,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col

from quartet.core.clock import utcnow
from quartet.core.pagination import UUID_KEYS, CursorPage, Keyset, keyset_page
from quartet.posts.models import Like, Post
from quartet.posts.views import LikerView, PostView
from quartet.stores.errors import MissingReferenceError
from quartet.stores.sql import PostgresRepository
from quartet.users.models import User

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LIKE_KEY = struct.Struct(">q16s")  # microseconds since the epoch, user id


def _pack_like_key(key: tuple[datetime, uuid.UUID]) -> bytes:
    liked_at, user_id = key
    return _LIKE_KEY.pack((liked_at - _EPOCH) // timedelta(microseconds=1), user_id.bytes)


def _unpack_like_key(raw: bytes) -> tuple[datetime, uuid.UUID]:
    micros, user_id = _LIKE_KEY.unpack(raw)
    return _EPOCH + timedelta(microseconds=micros), uuid.UUID(bytes=user_id)


LIKE_KEYS = Keyset(_pack_like_key, _unpack_like_key)
"""Likers are listed by (liked_at, user_id): a like's time alone may repeat."""


def _display_name() -> ColumnElement[str | None]:
    """What a user is shown as next to their posts and likes: never their email."""
    return func.coalesce(col(User.full_name), col(User.username))


def _violated_constraint(error: IntegrityError) -> str | None:
    """The constraint an IntegrityError names (the driver error is the DBAPI error's cause)."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return str(name) if name else None


def _missing_reference(error: IntegrityError) -> MissingReferenceError | None:
    """A foreign key failed because the post or the author's account was deleted meanwhile."""
    constraint = _violated_constraint(error) or ""
    for table in ("users", "posts"):
        if constraint.endswith(f"_{table}"):
            return MissingReferenceError(table)
    return None


def _views(by_viewer: bool) -> Select[Any]:
    """Posts with author name, like count and (for a signed-in viewer, bound as `viewer_id`)
    whether the viewer liked each one."""
    like_count = (
        select(func.count())
        .select_from(Like)
        .where(col(Like.post_id) == col(Post.id))
        .correlate(Post)
        .scalar_subquery()
    )
    liked_by_me: ColumnElement[bool] = (
        exists()
        .where(
            col(Like.post_id) == col(Post.id),
            col(Like.user_id) == bindparam("viewer_id", type_=Uuid),
        )
        .correlate(Post)
        if by_viewer
        else false()
    )
    return select(
        col(Post.id),
        col(Post.content),
        col(Post.created_at),
        col(Post.updated_at),
        col(Post.author_id),
        _display_name().label("author_name"),
        like_count.label("like_count"),
        liked_by_me.label("liked_by_me"),
    ).join(User, col(User.id) == col(Post.author_id))


# The read statements are built once per shape and reused with bound values: a hot list
# endpoint then neither rebuilds them nor recomputes their compiled-cache key per request.


@cache
def _page_statement(by_viewer: bool, by_author: bool, paged: bool) -> Select[Any]:
    query = _views(by_viewer)
    if by_author:
        query = query.where(col(Post.author_id) == bindparam("author_id", type_=Uuid))
    if paged:
        query = query.where(col(Post.id) < bindparam("before", type_=Uuid))
    return query.order_by(col(Post.id).desc()).limit(bindparam("limit", type_=Integer))


@cache
def _view_statement(by_viewer: bool) -> Select[Any]:
    return _views(by_viewer).where(col(Post.id) == bindparam("post_id", type_=Uuid))


class PostRepository(PostgresRepository[Post]):
    model = Post

    async def page(
        self,
        viewer_id: uuid.UUID | None,
        *,
        limit: int,
        cursor: str | None,
        author_id: uuid.UUID | None = None,
    ) -> CursorPage[PostView]:
        """Newest first by UUIDv7."""

        async def fetch(before: uuid.UUID | None, count: int) -> list[PostView]:
            given = {"viewer_id": viewer_id, "author_id": author_id, "before": before}
            params = {name: value for name, value in given.items() if value is not None}
            statement = _page_statement(viewer_id is not None, author_id is not None, bool(before))
            rows = await self._rows(statement, {**params, "limit": count})
            return [PostView(**row) for row in rows]

        return await keyset_page(
            fetch, limit=limit, cursor=cursor, keys=UUID_KEYS, key_of=lambda view: view.id
        )

    async def view(self, post_id: uuid.UUID, viewer_id: uuid.UUID | None) -> PostView | None:
        params = {"post_id": post_id, "viewer_id": viewer_id}
        statement = _view_statement(viewer_id is not None)
        rows = await self._rows(statement, params)
        return PostView(**rows[0]) if rows else None

    async def _rows(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[RowMapping]:
        """A read of plain columns on the session's connection: SQLAlchemy Core, past the ORM's
        per-statement bookkeeping (these statements load no entity)."""
        connection = await self.session.connection()
        result = await connection.execute(statement, params)
        rows: Sequence[RowMapping] = result.mappings().all()
        return rows

    async def add(self, author_id: uuid.UUID, content: str) -> Post:
        try:
            return await self.create(Post(author_id=author_id, content=content))
        except IntegrityError as error:
            translated = _missing_reference(error)
            if translated is None:
                raise
            raise translated from error

    async def exists(self, post_id: uuid.UUID) -> bool:
        return bool(await self.session.scalar(select(exists().where(col(Post.id) == post_id))))

    async def author_of(self, post_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(select(col(Post.author_id)).where(col(Post.id) == post_id))

    async def set_content(self, post_id: uuid.UUID, content: str) -> bool:
        """Replace the text; False when the post no longer exists."""
        statement = (
            update(Post)
            .where(col(Post.id) == post_id)
            .values(content=content, updated_at=utcnow())
            .returning(col(Post.id))
        )
        return (await self.session.scalar(statement)) is not None

    async def remove(self, post_id: uuid.UUID) -> bool:
        """Delete the post (its likes go with it, by cascade); False when it was already gone."""
        statement = delete(Post).where(col(Post.id) == post_id).returning(col(Post.id))
        return (await self.session.scalar(statement)) is not None


class LikeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, post_id: uuid.UUID) -> bool:
        """Like the post if it exists; True only when this call created the like. The primary
        key makes a concurrent duplicate wait for the first and then do nothing."""
        source = select(literal(user_id), col(Post.id), func.now()).where(col(Post.id) == post_id)
        statement = (
            insert(Like)
            .from_select(["user_id", "post_id", "created_at"], source)
            .on_conflict_do_nothing(index_elements=["user_id", "post_id"])
            .returning(col(Like.post_id))
        )
        try:
            return (await self.session.scalar(statement)) is not None
        except IntegrityError as error:
            translated = _missing_reference(error)
            if translated is None:
                raise
            raise translated from error

    async def remove(self, user_id: uuid.UUID, post_id: uuid.UUID) -> bool:
        """Unlike; True only when a like was there."""
        statement = (
            delete(Like)
            .where(col(Like.user_id) == user_id, col(Like.post_id) == post_id)
            .returning(col(Like.post_id))
        )
        return (await self.session.scalar(statement)) is not None

    async def likers(
        self, post_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> CursorPage[LikerView]:
        """Who liked the post, most recent like first, keyed by (created_at, user_id)."""

        async def fetch(before: tuple[datetime, uuid.UUID] | None, count: int) -> list[LikerView]:
            query: Select[*tuple[Any, ...]] = (
                select(
                    col(Like.user_id),
                    _display_name().label("name"),
                    col(Like.created_at).label("liked_at"),
                )
                .join(User, col(User.id) == col(Like.user_id))
                .where(col(Like.post_id) == post_id)
            )
            if before is not None:
                key = tuple_(col(Like.created_at), col(Like.user_id))
                query = query.where(key < tuple_(*before))
            query = query.order_by(col(Like.created_at).desc(), col(Like.user_id).desc())
            rows = (await self.session.execute(query.limit(count))).all()
            return [LikerView(**row._mapping) for row in rows]

        return await keyset_page(
            fetch,
            limit=limit,
            cursor=cursor,
            keys=LIKE_KEYS,
            key_of=lambda liker: (liker.liked_at, liker.user_id),
        )
