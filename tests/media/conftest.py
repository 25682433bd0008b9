"""Both storage backends run every media test: `media_app` is parametrised over `local` (a
directory of this run) and `s3` (a bucket of this run on the local versitygw server, started by
scripts/services.py), each an app of its own whose PostgreSQL writes really commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet import local_ports
from quartet.media.runtime import MediaRuntime
from quartet.media.storage import ObjectStorage
from quartet.media.storage.base import object_key
from quartet.media.storage.s3 import S3Storage
from tests.accounts import SignedIn, sign_up
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import RUN_ID

MAX_BYTES = 4 * 1024 * 1024
BUCKET = f"quartet-test-{RUN_ID.replace('_', '-')}"


def backend_settings(backend: str, root: Path) -> dict[str, Any]:
    common: dict[str, Any] = {
        "MEDIA_STORAGE": backend,
        "MEDIA_MAX_BYTES": MAX_BYTES,
        "MEDIA_SWEEP_INTERVAL_SECONDS": 0,
    }
    if backend == "local":
        return {**common, "MEDIA_ROOT": str(root)}
    return {
        **common,
        "MEDIA_S3_ENDPOINT_URL": local_ports.S3_ENDPOINT,
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ACCESS_KEY_ID": local_ports.S3_DEV_ACCESS_KEY,
        "MEDIA_S3_SECRET_ACCESS_KEY": local_ports.S3_DEV_SECRET_KEY,
        "MEDIA_S3_ADDRESSING_STYLE": "path",
        "MEDIA_S3_CREATE_BUCKET": True,
    }


async def all_keys(storage: ObjectStorage) -> set[str]:
    far = datetime.now(UTC) + timedelta(days=1)
    return {key async for batch in storage.keys_older_than(far) for key in batch}


async def _drop_bucket(storage: S3Storage) -> None:
    for key in await all_keys(storage):
        await storage.delete(key)
    await storage.client.delete_bucket(Bucket=storage.bucket)


@pytest.fixture(scope="module", params=["local", "s3"])
async def media_app(
    request: pytest.FixtureRequest, app: FastAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    """`app` (the session's) first: it migrates the run's database."""
    root = tmp_path_factory.mktemp("media")
    async with dedicated_app(**backend_settings(request.param, root)) as application:
        runtime: MediaRuntime = application.state.media
        await runtime.storage.ping()  # the S3 server must be up: `make services-up`
        yield application
        if isinstance(runtime.storage, S3Storage):
            await _drop_bucket(runtime.storage)


@pytest.fixture
def storage(media_app: FastAPI) -> ObjectStorage:
    runtime: MediaRuntime = media_app.state.media
    return runtime.storage


@pytest.fixture
async def http(media_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(media_app) as client:
        yield client


@pytest.fixture
async def owner(http: httpx.AsyncClient, api: str) -> SignedIn:
    return await sign_up(http, api)


async def stored_bytes(storage: ObjectStorage, media_id: str) -> bytes | None:
    """The object's bytes straight from the store, or None when it is not there."""
    key = object_key(uuid.UUID(media_id))
    found = await storage.stat(key)
    if found is None:
        return None
    return b"".join([chunk async for chunk in storage.read(key, 0, found.size - 1)])


async def content(http: httpx.AsyncClient, record: dict[str, Any]) -> httpx.Response:
    """Follow the record's signed link: the app's own route (local) or a presigned URL (s3)."""
    url = record["url"]
    if url.startswith("http://testserver"):
        return await http.get(url)
    async with httpx.AsyncClient() as outside:
        return await outside.get(url)
