"""Time-ordered UUIDv7 identifiers: index-friendly primary keys that sort by creation time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import uuid_utils


def uuid7() -> uuid.UUID:
    """A new UUIDv7 as a standard-library `uuid.UUID` (what every driver understands)."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def uuid7_time(value: uuid.UUID) -> datetime:
    """The creation time a UUIDv7 carries (its first 48 bits: Unix milliseconds)."""
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
