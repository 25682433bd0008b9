"""What the media service needs from an object store, whichever it is."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from quartet.core.errors import StoreUnavailableError

T = TypeVar("T")
STORE_NAME = "storage"
Backend = Literal["local", "s3"]
LIST_BATCH = 500
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


def object_key(media_id: uuid.UUID) -> str:
    """`<last two hex digits>/<id hex>`: spread over 256 directories (or key prefixes)."""
    return f"{media_id.hex[-2:]}/{media_id.hex}"


def is_object_key(key: str) -> bool:
    """Only keys this app makes are touched (a guard against path tricks on local disk)."""
    return _KEY.match(key) is not None


def unavailable() -> StoreUnavailableError:
    return StoreUnavailableError(STORE_NAME)


async def disk_io(work: Callable[[], T]) -> T:
    """Blocking file work in a worker thread; a full or failing disk is the store being
    unavailable (503), not a bug."""
    try:
        return await asyncio.to_thread(work)
    except OSError as error:
        raise unavailable() from error


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


class ObjectStorage(Protocol):
    backend: Backend
    staging_dir: Path
    """Where incoming bytes are staged before `put` (on the same disk as the objects when local,
    so `put` is a rename)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """One real round trip to the store; raises when it cannot answer."""

    async def put(self, key: str, source: Path, *, content_type: str, disposition: str) -> None:
        """Store the file at `source` under `key` (the file may be moved away)."""

    async def stat(self, key: str) -> StoredObject | None: ...

    def read(self, key: str, first: int, last: int) -> AsyncIterator[bytes]:
        """Bytes `first`..`last` (inclusive) of the object, in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error."""

    def keys_older_than(self, cutoff: datetime) -> AsyncIterator[list[str]]:
        """Keys of objects last modified before `cutoff`, in batches (for the orphan sweep)."""
        ...

    async def link(
        self, key: str, *, content_type: str, disposition: str, expires_s: int
    ) -> str | None:
        """A signed, expiring URL a browser can read the object from directly, or None when the
        app serves the content itself."""
