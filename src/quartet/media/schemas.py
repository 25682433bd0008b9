from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from quartet.core.schemas import StrictInput, examples
from quartet.media.kinds import Kind
from quartet.media.models import SOURCE_URL_MAX_CHARS

JSON_BODY_MAX_BYTES = 16 * 1024
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
"""Room above the file for the multipart framing: the route cuts the file off at its own cap."""


class MediaUrlIn(StrictInput):
    """Fetch the file at `url` (http or https, public addresses only)."""

    url: str = Field(
        min_length=8, max_length=SOURCE_URL_MAX_CHARS, examples=["https://example.com/cat.jpg"]
    )


class MediaOut(BaseModel):
    id: uuid.UUID
    kind: Kind
    content_type: str = Field(description="sniffed from the bytes, not taken from the client")
    size: int = Field(description="bytes stored (images: after metadata was stripped)")
    sha256: str
    width: int | None = Field(description="images only")
    height: int | None = Field(description="images only")
    filename: str | None
    source_url: str | None = Field(description="the URL it was fetched from, if any")
    created_at: datetime
    url: str = Field(description="signed link to the content, valid until url_expires_at")
    url_expires_at: datetime


class StorageHealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    backend: Literal["local", "s3"]
    latency_ms: float
    reason: str | None = Field(default=None, description="why it is unavailable")

    model_config = examples({"status": "ok", "backend": "s3", "latency_ms": 4.7, "reason": None})
