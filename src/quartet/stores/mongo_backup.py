"""Dump and restore one MongoDB database in mongodump's directory layout, with the driver alone
(no mongodump binary needed): per collection `<name>.bson`, its documents' BSON concatenated
byte for byte as stored, and `<name>.metadata.json` (canonical Extended JSON) with the
collection's options (its validator) and indexes.

Collections are read one after another, so a dump taken while the app writes is consistent per
collection, not across collections (as mongodump without --oplog). A restore builds each
collection under a staging name and renames it over the live one only once it is complete, so a
failed restore leaves the collection as it was.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bson import decode_file_iter, json_util
from bson.codec_options import CodecOptions
from bson.json_util import CANONICAL_JSON_OPTIONS
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel

from quartet.stores.mongo import MongoDatabase

RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
INSERT_BATCH_BYTES = 8 * 1024 * 1024
INSERT_BATCH_DOCUMENTS = 1000
WRITE_CHUNK_BYTES = 1024 * 1024
STAGING_SUFFIX = ".restoring"
_INDEX_FIELDS_NOT_OPTIONS = ("v", "key", "ns")
_VALIDATION = ("validator", "validationLevel", "validationAction")


@dataclass(frozen=True)
class CollectionCopy:
    name: str
    documents: int
    bytes: int
    indexes: int


def _uuid_hex(value: Any) -> str | None:
    if isinstance(value, uuid.UUID):
        return value.hex
    return bytes(value).hex() if isinstance(value, bytes) else None


async def _dump_collection(db: MongoDatabase, name: str, path: Path) -> tuple[int, int]:
    """Documents and bytes written: raw BSON, as the server returned it, in natural order."""
    documents = size = 0
    out = await asyncio.to_thread(path.open, "wb")
    try:
        chunk = bytearray()
        async for document in db.with_options(codec_options=RAW)[name].find({}):
            chunk += document.raw
            documents += 1
            size += len(document.raw)
            if len(chunk) >= WRITE_CHUNK_BYTES:
                await asyncio.to_thread(out.write, bytes(chunk))
                chunk.clear()
        await asyncio.to_thread(out.write, bytes(chunk))
    finally:
        await asyncio.to_thread(out.close)
    return documents, size


async def dump_database(db: MongoDatabase, target: Path) -> list[CollectionCopy]:
    """Write every collection of `db` (not views, not system collections) into `target`."""
    await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
    copies = []
    for info in await (await db.list_collections()).to_list():
        name = str(info["name"])
        if info.get("type", "collection") != "collection" or name.startswith("system."):
            continue
        documents, size = await _dump_collection(db, name, target / f"{name}.bson")
        indexes = await (await db[name].list_indexes()).to_list()
        metadata = {
            "indexes": indexes,
            "uuid": _uuid_hex(info.get("info", {}).get("uuid")),
            "collectionName": name,
            "type": "collection",
            "options": info.get("options", {}),
        }
        text = json_util.dumps(metadata, json_options=CANONICAL_JSON_OPTIONS)
        await asyncio.to_thread((target / f"{name}.metadata.json").write_text, text, "utf-8")
        copies.append(CollectionCopy(name, documents, size, len(indexes)))
    return copies


def _read_metadata(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    metadata: dict[str, Any] = json_util.loads(path.read_text(encoding="utf-8"))
    return metadata


def _batches(stream: IO[bytes]) -> Iterator[list[RawBSONDocument]]:
    batch: list[RawBSONDocument] = []
    size = 0
    for document in decode_file_iter(stream, codec_options=RAW):
        batch.append(document)
        size += len(document.raw)
        if len(batch) >= INSERT_BATCH_DOCUMENTS or size >= INSERT_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _index_models(indexes: list[dict[str, Any]]) -> list[IndexModel]:
    return [
        IndexModel(
            list(index["key"].items()),
            **{k: v for k, v in index.items() if k not in _INDEX_FIELDS_NOT_OPTIONS},
        )
        for index in indexes
        if index["name"] != "_id_"
    ]


async def _load_documents(db: MongoDatabase, name: str, path: Path) -> tuple[int, int]:
    documents = size = 0
    collection = db.with_options(codec_options=RAW)[name]
    stream = await asyncio.to_thread(path.open, "rb")
    try:
        batches = _batches(stream)
        done: list[RawBSONDocument] = []
        while batch := await asyncio.to_thread(next, batches, done):
            await collection.insert_many(batch, ordered=True)
            documents += len(batch)
            size += sum(len(document.raw) for document in batch)
    finally:
        await asyncio.to_thread(stream.close)
    return documents, size


async def restore_collection(db: MongoDatabase, source: Path, name: str) -> CollectionCopy:
    """Replace collection `name` with the copy in `source` (documents, options, indexes)."""
    metadata = await asyncio.to_thread(_read_metadata, source / f"{name}.metadata.json")
    staging = f"{name}{STAGING_SUFFIX}"
    await db.drop_collection(staging)
    await db.command({"create": staging, **metadata.get("options", {})})
    try:
        documents, size = await _load_documents(db, staging, source / f"{name}.bson")
        models = _index_models(metadata.get("indexes", []))
        if models:
            await db[staging].create_indexes(models)
        await db[staging].rename(name, dropTarget=True)
    except BaseException:
        await db.drop_collection(staging)
        raise
    validation = {k: v for k, v in metadata.get("options", {}).items() if k in _VALIDATION}
    if validation:  # SecantusDB's rename drops the validator (mongod's keeps it): set it again
        await db.command({"collMod": name, **validation})
    return CollectionCopy(name, documents, size, len(models) + 1)


async def restore_database(db: MongoDatabase, source: Path) -> list[CollectionCopy]:
    """Restore every collection dumped in `source`; collections it does not hold are left."""
    paths = await asyncio.to_thread(lambda: sorted(source.glob("*.bson")))
    return [await restore_collection(db, source, p.name.removesuffix(".bson")) for p in paths]
