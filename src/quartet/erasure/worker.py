"""The background erasure worker (started in the app's lifespan): every ERASURE_POLL_SECONDS it
leases the pending erasures that are due and runs them, so a store that was down when an
account was deleted is cleaned once it is back. Leases use `FOR UPDATE SKIP LOCKED`, so
several processes share the work without running one erasure twice at once."""

from __future__ import annotations

import asyncio
import logging

from quartet.core.background import BackgroundTask
from quartet.erasure.service import ErasureService
from quartet.settings import Settings

logger = logging.getLogger(__name__)

BATCH = 10


class ErasureWorker:
    def __init__(self, service: ErasureService, settings: Settings) -> None:
        self.service = service
        self.enabled = settings.ERASURE_WORKER_ENABLED
        self.poll = settings.ERASURE_POLL_SECONDS
        self._task = BackgroundTask("erasure-worker")

    def start(self) -> None:
        if self.enabled:
            self._task.start(self._loop)

    async def stop(self) -> None:
        await self._task.stop()

    async def run_due(self) -> int:
        """One pass: run every due erasure; returns how many were attempted."""
        ids = await self.service.claim_due(BATCH)
        for erasure_id in ids:
            await self.service.run(erasure_id)
        return len(ids)

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_due() == BATCH:
                    pass
            except Exception as error:  # PostgreSQL down: try again at the next poll
                logger.warning("erasure worker pass failed: %r", error)
            await asyncio.sleep(self.poll)
