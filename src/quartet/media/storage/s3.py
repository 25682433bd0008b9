"""Objects in any S3-compatible store (AWS S3, Google Cloud Storage's interoperability endpoint,
MinIO, Cloudflare R2, Ceph, versitygw) through aiobotocore; browsers read them through presigned
GET URLs, so content never passes through the app.

Checksums are computed only when an operation requires them: the CRC headers botocore adds by
default since 1.36 are refused by several S3-compatible servers (GCS among them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from quartet.media.storage.base import LIST_BATCH, Backend, StoredObject, unavailable
from quartet.settings import Settings

if TYPE_CHECKING:  # stubs only (a dev dependency)
    from types_aiobotocore_s3 import S3Client

logger = logging.getLogger(__name__)
READ_CHUNK = 256 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


@contextmanager
def _translated() -> Iterator[None]:
    """The store being unreachable, failing (5xx) or misconfigured (no such bucket, bad keys)
    is a 503 naming `storage`; anything else is a bug and propagates."""
    try:
        yield
    except ClientError as error:
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        code = str(error.response.get("Error", {}).get("Code", ""))
        if status >= 500 or status in (401, 403) or code == "NoSuchBucket":
            logger.warning("S3 refused a request: %s (HTTP %s)", code, status)
            raise unavailable() from error
        raise
    except (BotoCoreError, aiohttp.ClientError, OSError) as error:
        raise unavailable() from error


class S3Storage:
    backend: Backend = "s3"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket = settings.MEDIA_S3_BUCKET
        self.staging_dir = settings.MEDIA_ROOT.resolve() / ".staging"
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            raise RuntimeError("S3Storage.open() was not called")
        return self._client

    async def open(self) -> None:
        """Create the client (no network); create the bucket when MEDIA_S3_CREATE_BUCKET."""
        s = self.settings
        config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": s.MEDIA_S3_ADDRESSING_STYLE},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=s.MEDIA_S3_TIMEOUT_SECONDS,
            read_timeout=s.MEDIA_S3_TIMEOUT_SECONDS,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,
        )
        key_id, secret = s.MEDIA_S3_ACCESS_KEY_ID, s.MEDIA_S3_SECRET_ACCESS_KEY
        self._client = await self._stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=s.MEDIA_S3_ENDPOINT_URL,
                region_name=s.MEDIA_S3_REGION,
                aws_access_key_id=key_id.get_secret_value() if key_id else None,
                aws_secret_access_key=secret.get_secret_value() if secret else None,
                config=config,
            )
        )
        if s.MEDIA_S3_CREATE_BUCKET:
            try:
                await self._ensure_bucket()
            except Exception as error:  # a store that is down is reported by health, not fatal
                logger.warning("could not create the media bucket %s: %s", self.bucket, error)

    async def _ensure_bucket(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) not in _MISSING:
                raise
            await self.client.create_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None

    async def ping(self) -> None:
        with _translated():
            await self.client.head_bucket(Bucket=self.bucket)

    async def put(self, key: str, source: Path, *, content_type: str, disposition: str) -> None:
        with _translated(), source.open("rb") as body:
            await self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ContentDisposition=disposition,
            )

    async def stat(self, key: str) -> StoredObject | None:
        try:
            with _translated():
                head = await self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise
        return StoredObject(key, head["ContentLength"], head["LastModified"])

    async def read(self, key: str, first: int, last: int) -> AsyncIterator[bytes]:
        with _translated():
            response = await self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}"
            )
            async with response["Body"] as body:
                async for chunk in body.iter_chunks(READ_CHUNK):
                    yield chunk

    async def delete(self, key: str) -> None:
        with _translated():
            await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def keys_older_than(self, cutoff: datetime) -> AsyncIterator[list[str]]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _translated():
            pages = paginator.paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": LIST_BATCH}
            )
            async for page in pages:
                keys = [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
                if keys:
                    yield keys

    async def link(self, key: str, *, content_type: str, disposition: str, expires_s: int) -> str:
        return await self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=expires_s,
        )
