"""Incoming bytes go to a temporary file on disk, never whole into memory: written from a worker
thread in batches, hashed on the way, and refused the moment they pass the size cap."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from quartet.media.errors import MediaTooLargeError
from quartet.media.storage.base import disk_io

FLUSH_BYTES = 256 * 1024
READ_BYTES = 1024 * 1024


class StagedFile:
    """A temporary file under `directory`, removed on exit unless a storage backend took it."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.size = 0
        self.path = Path()
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._file: BinaryIO | None = None

    async def __aenter__(self) -> StagedFile:
        self._file, self.path = await disk_io(self._create)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._discard)

    def _create(self) -> tuple[BinaryIO, Path]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.directory, prefix="in-")
        return os.fdopen(fd, "wb"), Path(name)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self.path.unlink(missing_ok=True)

    async def write(self, data: bytes) -> None:
        """Append `data`; MediaTooLargeError as soon as the total passes the cap."""
        self.size += len(data)
        if self.size > self.max_bytes:
            raise MediaTooLargeError(f"The file is larger than {self.max_bytes} bytes")
        self._buffer += data
        if len(self._buffer) >= FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        chunk, self._buffer = bytes(self._buffer), bytearray()
        await disk_io(partial(self._write, chunk))

    def _write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._hash.update(chunk)
        self._file.write(chunk)

    async def finish(self) -> str:
        """Flush and close the file (durably); returns the hex SHA-256 of what was written."""
        await self._flush()
        await disk_io(self._close)
        return self._hash.hexdigest()

    def _close(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None


def file_digest(path: Path) -> tuple[int, str]:
    """Size and hex SHA-256 of a file (blocking: run it in a worker thread)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(READ_BYTES):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def remove_stale(directory: Path, older_than_s: float) -> int:
    """Delete staging files left by a crashed worker (blocking); returns how many went."""
    cutoff = time.time() - older_than_s
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed
