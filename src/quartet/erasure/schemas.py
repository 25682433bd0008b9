from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from quartet.core.schemas import ResponseModel, examples


class ErasureOut(ResponseModel):
    """Where an account's erasure stands: the stores done and those still to clean."""

    model_config = examples(
        {
            "id": "01938a52-7f00-7c8e-9d4e-0a1b2c3d4e5f",
            "user_id": None,
            "done": ["postgres", "redis", "mongodb", "cassandra"],
            "pending": [],
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": "2026-12-01T16:00:00Z",
            "created_at": "2026-12-01T16:00:00Z",
            "completed_at": "2026-12-01T16:00:01Z",
        }
    )

    id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="kept only until every store is clean")
    done: list[str]
    pending: list[str]
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    completed_at: datetime | None
