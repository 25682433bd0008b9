"""Backups in mongodump's layout: backup -> drop -> restore gives identical documents, validators
and indexes; retention keeps the newest BACKUP_KEEP; the command is fit for cron."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bson import decode_all
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from quartet.backup import BACKUP_NAME, backup_mongo, backups, restore_mongo
from quartet.core.clock import utcnow
from quartet.schema import apply_mongo_schema
from quartet.settings import Settings
from quartet.shop.models import Order, OrderLine, Product
from quartet.shop.repository import OrderRepository, ProductRepository
from quartet.stores.mongo import MongoDatabase
from quartet.stores.registry import Stores
from tests.conftest import run_cli


@pytest.fixture
async def backup_db(stores: Stores, settings: Settings) -> AsyncIterator[MongoDatabase]:
    """A Mongo database of its own (collections are dropped here), with the shop's schema and
    some products and orders."""
    name = f"{settings.MONGODB_DB}_bk_{uuid.uuid4().hex[:6]}"
    db = stores.mongo_client.get_database(name, codec_options=stores.mongo.codec_options)
    await apply_mongo_schema(db)
    now = utcnow().replace(microsecond=0)
    products = [
        Product(
            name=f"p{i}",
            description="d" * i,
            category=f"c{i % 3}",
            price=Decimal(i * 101) / 100,
            stock=i,
            is_available=i % 4 != 0,
            created_at=now,
            updated_at=now,
        )
        for i in range(40)
    ]
    await ProductRepository(db).insert_many(products)
    orders = [
        Order(
            customer_id=uuid.uuid4(),
            customer_name=f"cust{i % 5}",
            items=[OrderLine(product_id=p.id, name=p.name, quantity=2, unit_price=p.price)],
            total=p.price * 2,
            status="placed",
            created_at=now - timedelta(hours=i),
        )
        for i, p in enumerate(products)
    ]
    await OrderRepository(db).insert_many(orders)
    try:
        yield db
    finally:
        await stores.mongo_client.drop_database(name)


async def _snapshot(db: MongoDatabase) -> dict[str, Any]:
    """Every document (its BSON bytes, by _id), the options and the indexes of each
    collection."""
    state: dict[str, Any] = {}
    raw = db.with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
    for info in await (await db.list_collections()).to_list():
        name = info["name"]
        documents = [d.raw for d in await raw[name].find({}).sort("_id", 1).to_list()]
        indexes = sorted(
            [dict(i) async for i in await db[name].list_indexes()], key=lambda i: i["name"]
        )
        state[name] = {"documents": documents, "options": info["options"], "indexes": indexes}
    return state


async def test_backup_drop_restore_gives_identical_collections(
    backup_db: MongoDatabase, tmp_path: Path
) -> None:
    before = await _snapshot(backup_db)
    assert len(before["products"]["documents"]) == 40
    result = await backup_mongo(backup_db, tmp_path, keep=24)

    dump = result.path / backup_db.name
    assert sorted(p.name for p in dump.iterdir()) == [
        "orders.bson",
        "orders.metadata.json",
        "products.bson",
        "products.metadata.json",
    ]
    assert len(decode_all((dump / "products.bson").read_bytes())) == 40
    metadata = json.loads((dump / "orders.metadata.json").read_text())
    assert metadata["collectionName"] == "orders"
    assert {i["name"] for i in metadata["indexes"]} == {
        i["name"] for i in before["orders"]["indexes"]
    }
    assert "$jsonSchema" in metadata["options"]["validator"]

    for name in ("products", "orders"):
        await backup_db.drop_collection(name)
    assert await backup_db.list_collection_names() == []

    restored = await restore_mongo(backup_db, result.path)
    assert {c.name: c.documents for c in restored.collections} == {"orders": 40, "products": 40}
    assert await _snapshot(backup_db) == before
    # The validator came back with the collection.
    with pytest.raises(Exception, match="Document failed validation"):
        await backup_db["products"].insert_one({"name": 1})


async def test_restore_replaces_changed_collections(
    backup_db: MongoDatabase, tmp_path: Path
) -> None:
    before = await _snapshot(backup_db)
    result = await backup_mongo(backup_db, tmp_path, keep=24)
    await backup_db["products"].delete_many({"stock": {"$gte": 10}})
    await backup_db["orders"].drop_index("customer_name_1_created_at_-1")
    await restore_mongo(backup_db, result.path / backup_db.name)
    assert await _snapshot(backup_db) == before
    names = await backup_db.list_collection_names()
    assert sorted(names) == ["orders", "products"]  # no staging collection left behind


async def test_retention_keeps_the_newest(backup_db: MongoDatabase, tmp_path: Path) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(30):
        result = await backup_mongo(backup_db, tmp_path, keep=24, now=base + timedelta(hours=hour))
        expired = base + timedelta(hours=hour - 24)
        expected = [] if hour < 24 else [tmp_path / f"mongo-{expired:%Y%m%dT%H%M%S}.000Z"]
        assert result.removed == expected
        assert result.kept == min(hour + 1, 24)
    kept = backups(tmp_path)
    assert len(kept) == 24
    assert kept[0].name == "mongo-20260102T050000.000Z"
    assert kept[-1].name == "mongo-20260101T060000.000Z"
    everything = await asyncio.to_thread(lambda: sorted(p.name for p in tmp_path.iterdir()))
    assert everything == sorted(p.name for p in kept)
    (tmp_path / "notes").mkdir()  # anything that is not a backup is never touched
    await backup_mongo(backup_db, tmp_path, keep=24, now=base + timedelta(hours=31))
    assert (tmp_path / "notes").is_dir()
    assert len(backups(tmp_path)) == 24


async def test_the_commands_are_fit_for_cron(
    stores: Stores, tmp_path: Path, settings: Settings
) -> None:
    name = f"{settings.MONGODB_DB}_cron_{uuid.uuid4().hex[:6]}"
    env = {"MONGODB_DB": name, "BACKUP_DIR": str(tmp_path / "default"), "BACKUP_KEEP": "2"}

    async def cli(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_cli, *args, env={**env, **overrides})

    try:
        await apply_mongo_schema(stores.mongo_client[name])
        for _ in range(3):
            made = await cli("backup", "mongo")
            assert made.returncode == 0, made.stderr
            assert made.stdout.count("\n") == 1
            assert made.stdout.startswith("mongo backup ")
            assert "2 collections" in made.stdout
        assert len(backups(tmp_path / "default")) == 2
        assert "2 backups kept, 1 removed" in made.stdout

        out = tmp_path / "elsewhere"
        other = await cli("backup", "mongo", "--out", str(out), "--keep", "5")
        assert other.returncode == 0, other.stderr
        (made_dir,) = backups(out)
        assert BACKUP_NAME.match(made_dir.name)

        restored = await cli("restore", "mongo", str(made_dir))
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.startswith(f"mongo restore {made_dir / name} -> {name}: 2 coll")

        failed = await cli(
            "backup",
            "mongo",
            MONGODB_URL="mongodb://127.0.0.1:1/?directConnection=true",
            MONGODB_TIMEOUT_MS="200",
            BACKUP_DIR=str(tmp_path / "down"),
        )
        assert failed.returncode == 1
        assert failed.stdout == ""
        assert failed.stderr.startswith("backup mongo failed: ServerSelectionTimeoutError")
        assert failed.stderr.count("\n") == 1
        assert not (tmp_path / "down").exists() or not any((tmp_path / "down").iterdir())

        missing = await cli("restore", "mongo", str(tmp_path / "nothing"))
        assert missing.returncode == 1
        assert missing.stderr.startswith("restore mongo failed: FileNotFoundError")
        assert (await cli("backup", "mongo", "--keep", "0")).returncode == 2
    finally:
        await stores.mongo_client.drop_database(name)
