"""The ready-to-show rows the posts repository reads (author and like counts joined in)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuthorView:
    id: uuid.UUID
    name: str | None


@dataclass(frozen=True)
class PostView:
    id: uuid.UUID
    content: str
    created_at: datetime
    updated_at: datetime
    author_id: uuid.UUID
    author_name: str | None
    like_count: int
    liked_by_me: bool

    @property
    def author(self) -> AuthorView:
        return AuthorView(self.author_id, self.author_name)


@dataclass(frozen=True)
class LikerView:
    user_id: uuid.UUID
    name: str | None
    liked_at: datetime

    @property
    def user(self) -> AuthorView:
        return AuthorView(self.user_id, self.name)
