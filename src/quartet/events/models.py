"""An event as stored in every event table, and the time rules shared by the API and the writer.

Cassandra keeps timestamps to the millisecond, so an event's timestamp is truncated before it is
written: the event the API answers with is exactly the one a later read returns, and writing it
again (same id, same timestamp) lands on the same rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

ANONYMOUS = "anonymous"
"""`user_id` of events with no known user (a failed login for an unknown identifier)."""

METADATA_MAX_BYTES = 4096
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Event:
    event_id: uuid.UUID
    user_id: str
    event_type: str
    timestamp: datetime
    metadata: str | None

    @property
    def day(self) -> date:
        """The partition bucket: the UTC calendar day of the timestamp."""
        return self.timestamp.astimezone(UTC).date()


def remaining_ttl(ttl_days: int, timestamp: datetime, now: datetime) -> int | None:
    """Seconds an event at `timestamp` has left to live: 0 when events are kept forever, None
    when it is already past the retention (so a backfill cannot outlive its newer peers)."""
    if ttl_days == 0:
        return 0
    left = ttl_days * SECONDS_PER_DAY - int((now - timestamp).total_seconds())
    return left if left > 0 else None
