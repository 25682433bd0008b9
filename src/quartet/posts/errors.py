from __future__ import annotations

from quartet.core.errors import NotFoundError
from quartet.posts.permissions import POSTS_MODERATE
from quartet.rbac.errors import PermissionDeniedError


class PostNotFoundError(NotFoundError):
    message = "Post not found"


class NotPostAuthorError(PermissionDeniedError):
    """Someone else's post: changing it needs posts.moderate."""

    def __init__(self) -> None:
        super().__init__(POSTS_MODERATE)
