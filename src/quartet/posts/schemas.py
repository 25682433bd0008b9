from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from quartet.core.schemas import ResponseModel, StrictInput, examples
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

    model_config = examples({"content": "Hello from Quartet!"})


class PostUpdate(PostIn):  # an edit: new content under the same rules
    model_config = examples({"content": "Hello again, edited."})


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

    model_config = examples(
        {
            "id": "0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f",
            "author": {
                "id": "0193c5b2-7e4a-7c3d-9f1e-2b6a8d4c1e07",
                "name": "Ada Lovelace",
            },
            "content": "Hello from Quartet!",
            "created_at": "2026-03-14T09:26:53Z",
            "updated_at": "2026-03-14T09:26:53Z",
            "like_count": 2,
            "liked_by_me": True,
        }
    )


class LikerOut(ResponseModel):
    user: AuthorOut
    liked_at: datetime
