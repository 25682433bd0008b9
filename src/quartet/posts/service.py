"""Post and like rules: only the author or a holder of posts.moderate changes a post, likes are
idempotent, pages are cursor-based. Built per request over the request's session; never
commits (the request's unit of work does)."""

from __future__ import annotations

import uuid

from quartet.auth.errors import InvalidTokenError
from quartet.auth.tokens import Principal
from quartet.core.errors import AppError
from quartet.core.pagination import CursorPage
from quartet.posts.errors import NotPostAuthorError, PostNotFoundError
from quartet.posts.permissions import POSTS_MODERATE
from quartet.posts.repository import LikeRepository, PostRepository
from quartet.posts.views import LikerView, PostView
from quartet.stores.errors import MissingReferenceError


def _gone(error: MissingReferenceError) -> AppError:
    """A row a write referred to was deleted meanwhile: the caller's account or the post."""
    return InvalidTokenError() if error.table == "users" else PostNotFoundError()


def _viewer_id(viewer: Principal | None) -> uuid.UUID | None:
    return viewer.user_id if viewer is not None else None


class PostService:
    def __init__(self, posts: PostRepository, likes: LikeRepository) -> None:
        self.posts = posts
        self.likes = likes

    async def _view(self, post_id: uuid.UUID, viewer: Principal | None) -> PostView:
        view = await self.posts.view(post_id, _viewer_id(viewer))
        if view is None:
            raise PostNotFoundError()
        return view

    async def _authorise_change(self, post_id: uuid.UUID, caller: Principal) -> None:
        author_id = await self.posts.author_of(post_id)
        if author_id is None:
            raise PostNotFoundError()
        if author_id != caller.user_id and not caller.has(POSTS_MODERATE):
            raise NotPostAuthorError()

    async def create(self, author: Principal, content: str) -> PostView:
        try:
            post = await self.posts.add(author.user_id, content)
        except MissingReferenceError as error:
            raise _gone(error) from error
        return await self._view(post.id, author)

    async def get(self, post_id: uuid.UUID, viewer: Principal | None) -> PostView:
        return await self._view(post_id, viewer)

    async def page(
        self,
        viewer: Principal | None,
        *,
        limit: int,
        cursor: str | None,
        author_id: uuid.UUID | None,
    ) -> CursorPage[PostView]:
        """One page newest first, and the cursor of the next page (None on the last one)."""
        return await self.posts.page(
            _viewer_id(viewer), limit=limit, cursor=cursor, author_id=author_id
        )

    async def update(self, post_id: uuid.UUID, caller: Principal, content: str) -> PostView:
        await self._authorise_change(post_id, caller)
        if not await self.posts.set_content(post_id, content):
            raise PostNotFoundError()  # deleted between the check and the update
        return await self._view(post_id, caller)

    async def delete(self, post_id: uuid.UUID, caller: Principal) -> None:
        await self._authorise_change(post_id, caller)
        if not await self.posts.remove(post_id):
            raise PostNotFoundError()

    async def like(self, post_id: uuid.UUID, caller: Principal) -> PostView:
        """Idempotent: liking again leaves the one like there and answers the same."""
        try:
            await self.likes.add(caller.user_id, post_id)
        except MissingReferenceError as error:
            raise _gone(error) from error
        return await self._view(post_id, caller)

    async def unlike(self, post_id: uuid.UUID, caller: Principal) -> PostView:
        """Idempotent: unliking a post not liked is not an error."""
        await self.likes.remove(caller.user_id, post_id)
        return await self._view(post_id, caller)

    async def likers(
        self, post_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> CursorPage[LikerView]:
        """Who liked the post, most recent first, and the next page's cursor."""
        page = await self.likes.likers(post_id, limit=limit, cursor=cursor)
        if not page.items and not await self.posts.exists(post_id):
            raise PostNotFoundError()
        return page
