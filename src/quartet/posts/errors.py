from __future__ import annotations

from quartet.core.errors import ForbiddenError, NotFoundError


class PostNotFoundError(NotFoundError):
    message = "Post not found"


class NotPostAuthorError(ForbiddenError):
    message = "Only the post's author or a superuser may change it"
