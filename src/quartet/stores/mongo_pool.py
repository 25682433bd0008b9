"""MongoDB connection pool usage, counted from PyMongo's pool events (for metrics and status)."""

from __future__ import annotations

from pymongo import monitoring


class MongoPoolUsage(monitoring.ConnectionPoolListener):
    """Open and checked-out connections over every server of the client."""

    def __init__(self) -> None:
        self.open = 0
        self.checked_out = 0

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        self.open += 1

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        self.open = max(0, self.open - 1)

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        self.checked_out += 1

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        self.checked_out = max(0, self.checked_out - 1)

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        """Nothing to count."""

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        """Nothing to count."""

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        """Connections closed by a clear are reported one by one."""

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        """Connections closed with the pool are reported one by one."""

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        """Counted when created."""

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        """Counted when checked out."""

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        """Never checked out: nothing to count."""
