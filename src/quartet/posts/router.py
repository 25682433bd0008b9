from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, OptionalUser
from quartet.core.errors import ValidationFailedError, responses
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.idempotency.dependencies import IDEMPOTENCY_ERRORS, Idempotent
from quartet.posts.dependencies import PostReaderDep, PostServiceDep
from quartet.posts.errors import NotPostAuthorError, PostNotFoundError
from quartet.posts.schemas import LikerOut, PostIn, PostOut, PostUpdate

router = APIRouter(prefix="/posts", tags=["posts"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTHENTICATION_ERRORS, *IDEMPOTENCY_ERRORS),
    dependencies=[Idempotent],
)
async def create_post(body: PostIn, user: CurrentUser, service: PostServiceDep) -> PostOut:
    """Publishes a post as the signed-in user; an Idempotency-Key makes retries safe."""
    return PostOut.model_validate(await service.create(user, body.content))


@router.get(
    "",
    responses=responses(*AUTHENTICATION_ERRORS, ValidationFailedError),
    summary="Posts newest first; anonymous callers allowed",
)
async def list_posts(
    viewer: OptionalUser,
    service: PostReaderDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    author_id: Annotated[uuid.UUID | None, Query(description="only this author's posts")] = None,
) -> CursorPage[PostOut]:
    """Keyset-paginated with an opaque cursor, optionally one author's; `liked_by_me` is filled for
    a signed-in caller."""
    page = await service.page(viewer, limit=limit, cursor=cursor, author_id=author_id)
    return CursorPage[PostOut].model_validate(page)


@router.get("/{post_id}", responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError))
async def get_post(post_id: uuid.UUID, viewer: OptionalUser, service: PostReaderDep) -> PostOut:
    """One post with its like count; `liked_by_me` for a signed-in caller."""
    return PostOut.model_validate(await service.get(post_id, viewer))


@router.patch(
    "/{post_id}",
    responses=responses(*AUTHENTICATION_ERRORS, NotPostAuthorError, PostNotFoundError),
    summary="Edit a post (its author, or posts.moderate)",
)
async def update_post(
    post_id: uuid.UUID, body: PostUpdate, user: CurrentUser, service: PostServiceDep
) -> PostOut:
    """Replaces the content; someone else's post needs posts.moderate (403)."""
    return PostOut.model_validate(await service.update(post_id, user, body.content))


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(*AUTHENTICATION_ERRORS, NotPostAuthorError, PostNotFoundError),
    summary="Delete a post and its likes (its author, or posts.moderate)",
)
async def delete_post(post_id: uuid.UUID, user: CurrentUser, service: PostServiceDep) -> None:
    """Deletes the post and its likes; someone else's post needs posts.moderate (403)."""
    await service.delete(post_id, user)


@router.post(
    "/{post_id}/like",
    responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError, *IDEMPOTENCY_ERRORS),
    summary="Like a post (idempotent)",
    dependencies=[Idempotent],
)
async def like_post(post_id: uuid.UUID, user: CurrentUser, service: PostServiceDep) -> PostOut:
    """Liking twice changes nothing; answers the post with its new like count."""
    return PostOut.model_validate(await service.like(post_id, user))


@router.delete(
    "/{post_id}/like",
    responses=responses(*AUTHENTICATION_ERRORS, PostNotFoundError),
    summary="Take a like back (idempotent)",
)
async def unlike_post(post_id: uuid.UUID, user: CurrentUser, service: PostServiceDep) -> PostOut:
    """Taking back a like that is not there changes nothing; answers the post."""
    return PostOut.model_validate(await service.unlike(post_id, user))


@router.get(
    "/{post_id}/likes",
    responses=responses(PostNotFoundError, ValidationFailedError),
    summary="Who liked a post, most recent first; anonymous callers allowed",
)
async def list_likers(
    post_id: uuid.UUID,
    service: PostReaderDep,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CursorPage[LikerOut]:
    """Keyset-paginated with an opaque cursor."""
    return CursorPage[LikerOut].model_validate(
        await service.likers(post_id, limit=limit, cursor=cursor)
    )
