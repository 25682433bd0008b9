"""The one source of "now": timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_millis(moment: datetime) -> datetime:
    """UTC, truncated to the millisecond: what BSON dates and Cassandra timestamps store, so a
    value read back compares equal to the one written."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
