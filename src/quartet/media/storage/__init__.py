"""Object storage backends (`MEDIA_STORAGE`): the repositories of the object store."""

from __future__ import annotations

from quartet.media.storage.base import ObjectStorage
from quartet.media.storage.local import LocalStorage
from quartet.settings import Settings


def create_storage(settings: Settings) -> ObjectStorage:
    if settings.MEDIA_STORAGE == "s3":
        # Imported only when chosen: botocore is slow to import and large in memory.
        from quartet.media.storage.s3 import S3Storage

        return S3Storage(settings)
    return LocalStorage(settings.MEDIA_ROOT)


__all__ = ["LocalStorage", "ObjectStorage", "create_storage"]
