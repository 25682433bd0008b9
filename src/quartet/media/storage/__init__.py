"""Object storage backends (`MEDIA_STORAGE`): the repositories of the object store."""

from __future__ import annotations

from quartet.media.storage.base import ObjectStorage
from quartet.media.storage.local import LocalStorage
from quartet.media.storage.s3 import S3Storage
from quartet.settings import Settings


def create_storage(settings: Settings) -> ObjectStorage:
    if settings.MEDIA_STORAGE == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.MEDIA_ROOT)


__all__ = ["LocalStorage", "ObjectStorage", "S3Storage", "create_storage"]
