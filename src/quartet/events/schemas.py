"""Request and response models of /logs and /activity."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from quartet.core.schemas import ResponseModel, StrictInput, examples
from quartet.events.models import METADATA_MAX_BYTES

EVENT_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
USER_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"


def _version_7(value: uuid.UUID) -> uuid.UUID:
    if value.version != 7:
        raise ValueError("event_id must be a UUIDv7")
    return value


def _capped(value: str) -> str:
    if len(value.encode()) > METADATA_MAX_BYTES:
        raise ValueError(f"metadata is larger than {METADATA_MAX_BYTES} bytes (UTF-8)")
    return value


EventType = Annotated[str, Field(pattern=EVENT_TYPE_PATTERN, examples=["order_created"])]
UserKey = Annotated[str, Field(pattern=USER_KEY_PATTERN, description="the user the event is about")]
Metadata = Annotated[str, Field(max_length=METADATA_MAX_BYTES), AfterValidator(_capped)]

EventTypeQuery = Annotated[str, Query(pattern=EVENT_TYPE_PATTERN)]
Hours = Annotated[int, Query(ge=1, le=720, description="window: the last N hours")]
LogLimit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Days = Annotated[int, Query(ge=1, le=36_500, description="delete events older than N days")]
UserKeyFilter = Annotated[str | None, Query(pattern=USER_KEY_PATTERN)]
EventTypeFilter = Annotated[str | None, Query(pattern=EVENT_TYPE_PATTERN)]
Since = Annotated[AwareDatetime | None, Query(description="default: 30 days before until")]
Until = Annotated[AwareDatetime | None, Query(description="default: now")]


class EventIn(StrictInput):
    event_id: Annotated[uuid.UUID, AfterValidator(_version_7)] | None = Field(
        default=None,
        description="a UUIDv7 chosen by the client, so a POST retried after a timeout lands on "
        "the same rows; its time is the event's default timestamp (default: a new one)",
    )
    event_type: EventType
    metadata: Metadata | None = None
    user_id: UserKey | None = Field(default=None, description="default: the caller")
    timestamp: AwareDatetime | None = Field(
        default=None, description="default: now; a past time (backfill) needs events.write"
    )

    model_config = examples({"event_type": "page.view", "metadata": '{"path": "/pricing"}'})


class MetadataIn(StrictInput):
    metadata: Metadata | None

    model_config = examples({"metadata": '{"path": "/pricing", "ref": "newsletter"}'})


class EventOut(ResponseModel):
    event_id: uuid.UUID
    user_id: str
    event_type: str
    timestamp: datetime
    metadata: str | None


class DeleteOldOut(BaseModel):
    cutoff: datetime = Field(description="events before this instant were deleted")
    days: int = Field(description="whole day buckets removed")
    partitions: int = Field(description="by-type and by-user partitions removed or trimmed")
    events: int = Field(description="events deleted")
