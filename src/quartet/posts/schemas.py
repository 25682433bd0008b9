from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from quartet.core.schemas import ResponseModel, StrictInput
from quartet.posts.models import CONTENT_MAX_CHARS


def _printable_text(value: str) -> str:
    if not value.strip():
        raise ValueError("content must not be blank")
    return value


Content = Annotated[
    str,
    Field(min_length=1, max_length=CONTENT_MAX_CHARS, description="1 to 10,000 characters"),
    AfterValidator(_printable_text),
]


class PostIn(StrictInput):
    content: Content


class PostUpdate(StrictInput):
    content: Content


class AuthorOut(ResponseModel):
    """A user as shown next to a post or a like: id and display name, never the email."""

    id: uuid.UUID
    name: str | None


class PostOut(ResponseModel):
    id: uuid.UUID
    author: AuthorOut
    content: str
    created_at: datetime
    updated_at: datetime
    like_count: int
    liked_by_me: bool = Field(description="false for anonymous callers")


class LikerOut(ResponseModel):
    user: AuthorOut
    liked_at: datetime
