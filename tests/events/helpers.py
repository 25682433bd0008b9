"""Times and waits the event-log tests share."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from quartet.events.writer import ActivityWriter

POLL = 0.02


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def drained(writer: ActivityWriter, seconds: float = 15.0) -> dict[str, int]:
    """Wait until the activity writer holds nothing; returns its counters."""
    for _ in range(int(seconds / POLL)):
        if not writer.stats()["pending"]:
            return writer.stats()
        await asyncio.sleep(POLL)
    raise AssertionError(f"the activity writer still holds events: {writer.stats()}")
