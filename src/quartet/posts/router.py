from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, OptionalUser
from quartet.core.errors import ValidationFailedError, responses
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.idempotency.dependencies import IDEMPOTENCY_ERRORS, Idempotent
from quartet.posts import service
from quartet.posts.errors import NotPostAuthorError, PostNotFoundError
from quartet.posts.schemas import AuthorOut, LikerOut, PostIn, PostOut, PostUpdate
from quartet.posts.views import LikerView, PostView
from quartet.stores.dependencies import DbSession

router = APIRouter(prefix="/posts", tags=["posts"])


def _post_out(view: PostView) -> PostOut:
    return PostOut(
        id=view.id,
        author=AuthorOut(id=view.author_id, name=view.author_name),
        content=view.content,
        created_at=view.created_at,
        updated_at=view.updated_at,
        like_count=view.like_count,
        liked_by_me=view.liked_by_me,
    )


def _liker_out(view: LikerView) -> LikerOut:
    return LikerOut(user=AuthorOut(id=view.user_id, name=view.name), liked_at=view.liked_at)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses=responses(*AUTHENTICATION_ERRORS, *IDEMPOTENCY_ERRORS),
    dependencies=[Idempotent],
)
async def create_post(body: PostIn, user: CurrentUser, db: DbSession) -> PostOut:
    """Publishes a post as the signed-in user; an Idempotency-Key makes retries safe."""
    return _post_out(await service.create_post(db, user, body.content))


@router.get(
    "",
    response_model=CursorPage[PostOut],
    responses=responses(*AUTHENTICATION_ERRORS, ValidationFailedError),
    summary="Posts newest first; anonymous callers allowed",
)
async def list_posts(
    viewer: OptionalUser,
    db: DbSession,
    limit: Limit = 20,
    cursor: Cursor = None,
    author_id: Annotated[uuid.UUID | None, Query(description="only this author's posts")] = None,
) -> CursorPage[PostOut]:
    """Keyset-paginated with an opaque cursor, optionally one author's; `liked_by_me` is filled for
    a signed-in caller."""
    views, next_cursor = await service.list_posts(
        db, viewer, limit=limit, cursor=cursor, author_id=author_id
    )
    return CursorPage(items=[_post_out(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/{post_id}",
    response_model=PostOut,
    responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError),
)
async def get_post(post_id: uuid.UUID, viewer: OptionalUser, db: DbSession) -> PostOut:
    """One post with its like count; `liked_by_me` for a signed-in caller."""
    return _post_out(await service.get_post(db, post_id, viewer))


@router.patch(
    "/{post_id}",
    response_model=PostOut,
    responses=responses(*AUTHENTICATION_ERRORS, NotPostAuthorError, PostNotFoundError),
    summary="Edit a post (its author, or posts.moderate)",
)
async def update_post(
    post_id: uuid.UUID, body: PostUpdate, user: CurrentUser, db: DbSession
) -> PostOut:
    """Replaces the content; someone else's post needs posts.moderate (403)."""
    return _post_out(await service.update_post(db, post_id, user, body.content))


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*AUTHENTICATION_ERRORS, NotPostAuthorError, PostNotFoundError),
    summary="Delete a post and its likes (its author, or posts.moderate)",
)
async def delete_post(post_id: uuid.UUID, user: CurrentUser, db: DbSession) -> None:
    """Deletes the post and its likes; someone else's post needs posts.moderate (403)."""
    await service.delete_post(db, post_id, user)


@router.post(
    "/{post_id}/like",
    response_model=PostOut,
    responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError, *IDEMPOTENCY_ERRORS),
    summary="Like a post (idempotent)",
    dependencies=[Idempotent],
)
async def like_post(post_id: uuid.UUID, user: CurrentUser, db: DbSession) -> PostOut:
    """Liking twice changes nothing; answers the post with its new like count."""
    return _post_out(await service.like_post(db, post_id, user))


@router.delete(
    "/{post_id}/like",
    response_model=PostOut,
    responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError),
    summary="Take a like back (idempotent)",
)
async def unlike_post(post_id: uuid.UUID, user: CurrentUser, db: DbSession) -> PostOut:
    """Taking back a like that is not there changes nothing; answers the post."""
    return _post_out(await service.unlike_post(db, post_id, user))


@router.get(
    "/{post_id}/likes",
    response_model=CursorPage[LikerOut],
    responses=responses(PostNotFoundError, ValidationFailedError),
    summary="Who liked a post, most recent first; anonymous callers allowed",
)
async def list_likers(
    post_id: uuid.UUID,
    db: DbSession,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CursorPage[LikerOut]:
    """Keyset-paginated with an opaque cursor."""
    views, next_cursor = await service.list_likers(db, post_id, limit=limit, cursor=cursor)
    return CursorPage(items=[_liker_out(v) for v in views], next_cursor=next_cursor)
