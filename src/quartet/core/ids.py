"""Time-ordered UUIDv7 identifiers: index-friendly primary keys that sort by creation time."""

from __future__ import annotations

import uuid

import uuid_utils


def uuid7() -> uuid.UUID:
    """A new UUIDv7 as a standard-library `uuid.UUID` (what every driver understands)."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
