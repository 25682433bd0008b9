"""The user administration list's query: what the route parses and the repository runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

SortField = Literal["created_at", "email", "full_name", "last_login_at"]


@dataclass(frozen=True)
class UserQuery:
    """The user administration list's filters, order and page."""

    search: str | None = None
    status: str | None = None
    is_active: bool | None = None
    group_id: uuid.UUID | None = None
    sort: SortField = "created_at"
    descending: bool = True
    limit: int = 20
    offset: int = 0
