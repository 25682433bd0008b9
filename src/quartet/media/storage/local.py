"""Objects as files under MEDIA_ROOT/objects; the app serves them itself (with signed links)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from quartet.media.storage.base import LIST_BATCH, Backend, StoredObject, disk_io, is_object_key

READ_CHUNK = 256 * 1024


class LocalStorage:
    backend: Backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.objects = self.root / "objects"
        self.staging_dir = self.root / ".staging"

    def _path(self, key: str) -> Path:
        if not is_object_key(key):
            raise ValueError(f"not an object key: {key!r}")
        return self.objects / key

    async def open(self) -> None:
        def make_dirs() -> None:
            self.objects.mkdir(parents=True, exist_ok=True)
            self.staging_dir.mkdir(parents=True, exist_ok=True)

        await disk_io(make_dirs)

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        def writable() -> None:
            if not os.access(self.objects, os.W_OK | os.X_OK):
                raise OSError(f"{self.objects} is not writable")
            os.statvfs(self.objects)

        await disk_io(writable)

    async def put(self, key: str, source: Path, *, content_type: str, disposition: str) -> None:
        target = self._path(key)

        def move() -> None:
            target.parent.mkdir(exist_ok=True)
            os.replace(source, target)  # staging is on the same disk: an atomic rename
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

        await disk_io(move)

    async def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)

        def stat() -> StoredObject | None:
            try:
                info = path.stat()
            except FileNotFoundError:
                return None
            return StoredObject(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

        return await disk_io(stat)

    async def read(self, key: str, first: int, last: int) -> AsyncIterator[bytes]:
        path = self._path(key)
        handle = await disk_io(lambda: path.open("rb"))
        try:
            await disk_io(lambda: handle.seek(first))
            remaining = last - first + 1
            while remaining > 0:
                chunk = await disk_io(partial(handle.read, min(READ_CHUNK, remaining)))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await disk_io(lambda: path.unlink(missing_ok=True))

    async def keys_older_than(self, cutoff: datetime) -> AsyncIterator[list[str]]:
        limit = cutoff.timestamp()

        def scan(shard: Path) -> list[str]:
            found = []
            for entry in os.scandir(shard):
                try:
                    if entry.is_file() and entry.stat().st_mtime < limit:
                        found.append(f"{shard.name}/{entry.name}")
                except FileNotFoundError:
                    continue
            return [key for key in found if is_object_key(key)]

        shards = await disk_io(lambda: sorted(p for p in self.objects.iterdir() if p.is_dir()))
        for shard in shards:
            keys = await disk_io(partial(scan, shard))
            for start in range(0, len(keys), LIST_BATCH):
                yield keys[start : start + LIST_BATCH]

    async def link(
        self, key: str, *, content_type: str, disposition: str, expires_s: int
    ) -> str | None:
        return None
