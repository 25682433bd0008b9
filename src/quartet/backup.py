"""Timestamped MongoDB backups with retention, and their restore (seed 002's hourly job).

`quartet backup mongo` writes `BACKUP_DIR/mongo-<UTC time>/<database>/` in mongodump's layout,
then deletes all but the newest `BACKUP_KEEP` backups. A backup is written under a hidden
`.partial` name and renamed when complete, so a failed run never leaves something retention
would count as a backup. Run it hourly from cron (`make backup`, or the command itself): it
never prompts, prints one summary line, and exits 0 on success, 1 on failure.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quartet.core.clock import utcnow
from quartet.stores.mongo import MongoDatabase
from quartet.stores.mongo_backup import CollectionCopy, dump_database, restore_database

BACKUP_PREFIX = "mongo-"
BACKUP_NAME = re.compile(r"^mongo-\d{8}T\d{6}\.\d{3}Z$")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    collections: list[CollectionCopy]
    kept: int
    removed: list[Path]
    seconds: float

    def summary(self) -> str:
        size = _size(sum(c.bytes for c in self.collections))
        return (
            f"mongo backup {self.path}: {_copied(self.collections, size, self.seconds)}; "
            f"{self.kept} backups kept, {len(self.removed)} removed"
        )


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    database: str
    collections: list[CollectionCopy]
    seconds: float

    def summary(self) -> str:
        indexes = f"{sum(c.indexes for c in self.collections)} indexes"
        copied = _copied(self.collections, indexes, self.seconds)
        return f"mongo restore {self.source} -> {self.database}: {copied}"


def _copied(collections: list[CollectionCopy], measure: str, seconds: float) -> str:
    """What a backup or restore copied, with its own `measure` (size or indexes) last."""
    documents = sum(c.documents for c in collections)
    return f"{len(collections)} collections, {documents} documents, {measure} in {seconds:.1f}s"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KiB"


def backup_name(now: datetime) -> str:
    return f"{BACKUP_PREFIX}{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z"


def backups(directory: Path) -> list[Path]:
    """Complete backups in `directory`, newest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and BACKUP_NAME.match(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted."""
    removed = backups(directory)[keep:]
    for path in removed:
        shutil.rmtree(path)
    return removed


async def backup_mongo(
    db: MongoDatabase, directory: Path, keep: int, now: datetime | None = None
) -> BackupResult:
    started = time.perf_counter()
    name = backup_name(now or utcnow())
    final = directory / name
    partial = directory / f".{name}.partial"
    try:
        copies = await dump_database(db, partial / db.name)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = prune(directory, keep)
    kept = len(backups(directory))
    return BackupResult(final, copies, kept, removed, time.perf_counter() - started)


def dump_directory(source: Path) -> Path:
    """The directory holding the `.bson` files: `source` itself, or the one database directory
    inside a backup (`mongo-<time>/<database>/`)."""
    if any(source.glob("*.bson")):
        return source
    inner = [p for p in source.iterdir() if p.is_dir() and any(p.glob("*.bson"))]
    if len(inner) != 1:
        raise FileNotFoundError(f"{source} holds no single mongodump database directory")
    return inner[0]


async def restore_mongo(db: MongoDatabase, source: Path) -> RestoreResult:
    started = time.perf_counter()
    directory = dump_directory(source)
    copies = await restore_database(db, directory)
    return RestoreResult(directory, db.name, copies, time.perf_counter() - started)
