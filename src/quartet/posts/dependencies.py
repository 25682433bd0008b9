"""The posts service, built per request over the request's unit of work (a read-only one for
the routes that only read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.posts.repository import LikeRepository, PostRepository
from quartet.posts.service import PostService
from quartet.stores.dependencies import DbSession, ReadSession


async def get_post_service(db: DbSession) -> PostService:
    return PostService(PostRepository(db), LikeRepository(db))


PostServiceDep = Annotated[PostService, Depends(get_post_service)]


async def get_post_reader(db: ReadSession) -> PostService:
    return PostService(PostRepository(db), LikeRepository(db))


PostReaderDep = Annotated[PostService, Depends(get_post_reader)]
