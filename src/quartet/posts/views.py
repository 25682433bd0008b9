"""The ready-to-show rows the posts repository reads (author and like counts joined in)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


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


@dataclass(frozen=True)
class LikerView:
    user_id: uuid.UUID
    name: str | None
    liked_at: datetime
