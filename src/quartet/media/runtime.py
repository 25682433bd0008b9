"""The media machinery of one app instance: object store, image pool, link signer, URL fetcher
and the periodic orphan sweep; opened and closed by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging

from quartet import __version__
from quartet.core.background import BackgroundTask
from quartet.core.deadline import store_budget
from quartet.media.addresses import AddressPolicy
from quartet.media.fetch import UrlFetcher
from quartet.media.images import ImageProcessor
from quartet.media.service import MediaService
from quartet.media.signing import LinkSigner
from quartet.media.storage import create_storage
from quartet.settings import Settings
from quartet.stores.registry import Stores

logger = logging.getLogger(__name__)


class MediaRuntime:
    def __init__(self, settings: Settings, stores: Stores) -> None:
        self.settings = settings
        self.stores = stores
        self.storage = create_storage(settings)
        self.images = ImageProcessor(settings.MEDIA_MAX_IMAGE_PIXELS, settings.MEDIA_IMAGE_WORKERS)
        self.service = MediaService(
            self.storage,
            self.images,
            LinkSigner(settings.SECRET_KEY.get_secret_value(), settings.MEDIA_URL_EXPIRE_SECONDS),
            max_bytes=settings.MEDIA_MAX_BYTES,
            orphan_grace_s=settings.MEDIA_ORPHAN_GRACE_SECONDS,
            store_budget_s=store_budget(settings.STORE_DEADLINE_SECONDS),
        )
        self.fetcher = UrlFetcher(
            AddressPolicy(settings.MEDIA_FETCH_ALLOWED_NETWORKS),
            timeout_s=settings.MEDIA_FETCH_TIMEOUT_SECONDS,
            max_redirects=settings.MEDIA_FETCH_MAX_REDIRECTS,
            user_agent=f"{settings.PROJECT_NAME}/{__version__} media-fetch",
        )
        self._sweeper = BackgroundTask("media-orphan-sweep")

    async def open(self) -> None:
        try:
            await self.storage.open()
        except Exception as error:  # reported by /health/storage and as 503s, never fatal
            logger.warning("media storage (%s) did not open: %s", self.storage.backend, error)
        if self.settings.MEDIA_SWEEP_INTERVAL_SECONDS > 0:
            self._sweeper.start(self._sweep_forever)

    async def close(self) -> None:
        await self._sweeper.stop()
        await self.storage.close()
        self.images.close()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.MEDIA_SWEEP_INTERVAL_SECONDS)
            try:
                removed = await self.service.sweep(self.stores.transactions)
            except Exception as error:
                logger.warning("media orphan sweep failed: %s", error)
                continue
            if removed:
                logger.info("media orphan sweep removed %d object(s)", removed)
