"""Post and like rules: only the author or a holder of posts.moderate changes a post, likes are
idempotent, pages are cursor-based. Stateless; runs in the request's unit of work and never
commits."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.errors import InvalidTokenError
from quartet.auth.tokens import Principal
from quartet.core.errors import AppError, ValidationFailedError
from quartet.core.pagination import (
    decode_cursor,
    decode_uuid_cursor,
    encode_cursor,
    encode_uuid_cursor,
)
from quartet.posts.errors import NotPostAuthorError, PostNotFoundError
from quartet.posts.permissions import POSTS_MODERATE
from quartet.posts.repository import LikeRepository, PostRepository
from quartet.posts.views import LikerView, PostView
from quartet.stores.errors import MissingReferenceError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LIKE_CURSOR = struct.Struct(">q16s")  # microseconds since the epoch, user id


def _viewer_id(viewer: Principal | None) -> uuid.UUID | None:
    return viewer.user_id if viewer is not None else None


async def _view(posts: PostRepository, post_id: uuid.UUID, viewer: Principal | None) -> PostView:
    view = await posts.view(post_id, _viewer_id(viewer))
    if view is None:
        raise PostNotFoundError()
    return view


def _gone(error: MissingReferenceError) -> AppError:
    """A row a write referred to was deleted meanwhile: the caller's account or the post."""
    return InvalidTokenError() if error.table == "users" else PostNotFoundError()


async def create_post(db: AsyncSession, author: Principal, content: str) -> PostView:
    posts = PostRepository(db)
    try:
        post = await posts.add(author.user_id, content)
    except MissingReferenceError as error:
        raise _gone(error) from error
    return await _view(posts, post.id, author)


async def get_post(db: AsyncSession, post_id: uuid.UUID, viewer: Principal | None) -> PostView:
    return await _view(PostRepository(db), post_id, viewer)


async def list_posts(
    db: AsyncSession,
    viewer: Principal | None,
    *,
    limit: int,
    cursor: str | None,
    author_id: uuid.UUID | None,
) -> tuple[list[PostView], str | None]:
    """One page newest first, and the cursor of the next page (None on the last one)."""
    before = decode_uuid_cursor(cursor) if cursor else None
    rows = await PostRepository(db).page(
        _viewer_id(viewer), limit=limit + 1, before=before, author_id=author_id
    )
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_uuid_cursor(rows[limit - 1].id)


async def _authorise_change(posts: PostRepository, post_id: uuid.UUID, caller: Principal) -> None:
    author_id = await posts.author_of(post_id)
    if author_id is None:
        raise PostNotFoundError()
    if author_id != caller.user_id and not caller.has(POSTS_MODERATE):
        raise NotPostAuthorError()


async def update_post(
    db: AsyncSession, post_id: uuid.UUID, caller: Principal, content: str
) -> PostView:
    posts = PostRepository(db)
    await _authorise_change(posts, post_id, caller)
    if not await posts.set_content(post_id, content):
        raise PostNotFoundError()  # deleted between the check and the update
    return await _view(posts, post_id, caller)


async def delete_post(db: AsyncSession, post_id: uuid.UUID, caller: Principal) -> None:
    posts = PostRepository(db)
    await _authorise_change(posts, post_id, caller)
    if not await posts.remove(post_id):
        raise PostNotFoundError()


async def like_post(db: AsyncSession, post_id: uuid.UUID, caller: Principal) -> PostView:
    """Idempotent: liking again leaves the one like there and answers the same."""
    try:
        await LikeRepository(db).add(caller.user_id, post_id)
    except MissingReferenceError as error:
        raise _gone(error) from error
    return await _view(PostRepository(db), post_id, caller)


async def unlike_post(db: AsyncSession, post_id: uuid.UUID, caller: Principal) -> PostView:
    """Idempotent: unliking a post not liked is not an error."""
    await LikeRepository(db).remove(caller.user_id, post_id)
    return await _view(PostRepository(db), post_id, caller)


def _encode_like_cursor(liker: LikerView) -> str:
    micros = (liker.liked_at - _EPOCH) // timedelta(microseconds=1)
    return encode_cursor(_LIKE_CURSOR.pack(micros, liker.user_id.bytes))


def _decode_like_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    raw = decode_cursor(cursor)
    if len(raw) != _LIKE_CURSOR.size:
        raise ValidationFailedError("cursor is malformed")
    micros, user_id = _LIKE_CURSOR.unpack(raw)
    try:
        liked_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError as error:
        raise ValidationFailedError("cursor is malformed") from error
    return liked_at, uuid.UUID(bytes=user_id)


async def list_likers(
    db: AsyncSession, post_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[LikerView], str | None]:
    """Who liked the post, most recent first, and the next page's cursor."""
    before = _decode_like_cursor(cursor) if cursor else None
    rows = await LikeRepository(db).likers(post_id, limit=limit + 1, before=before)
    if not rows and not await PostRepository(db).exists(post_id):
        raise PostNotFoundError()
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], _encode_like_cursor(rows[limit - 1])
