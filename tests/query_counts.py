"""Counting a request's SQL statements with the app's own PostgreSQL query monitor.

The app's background workers (the outbox dispatcher sending a registration's email, the outbox
gauge's sampler, the erasure worker) share that monitor, so their statements are left out:
they run whenever they like, not because of the request being counted.
"""

from __future__ import annotations

from quartet.stores.registry import Stores

WORKER_TABLES = ("notification_outbox", "account_erasures")


def snapshot(stores: Stores) -> dict[str, int]:
    """How many times each statement ran so far, workers' statements left out."""
    return {
        s["statement"]: s["count"]
        for s in stores.monitors["postgres"].stats()
        if not any(table in s["statement"] for table in WORKER_TABLES)
    }


def ran(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """The statements run between two snapshots, as `<count> <first three words>`."""
    return sorted(
        f"{after[s] - before.get(s, 0)} {' '.join(s.split()[:3])}"
        for s in after
        if after[s] != before.get(s, 0)
    )


def total(before: dict[str, int], after: dict[str, int]) -> int:
    """How many statements ran between two snapshots."""
    return sum(after.values()) - sum(before.values())
