"""What the database itself enforces and how it answers the shop's queries: validators refuse bad
documents, the indexes exist (applied at start-up and by `quartet schema`, idempotently), and
explain() shows the category filter and both stats pipelines' $match scanning an index.

SecantusDB's explain answers in mongod's shape (`queryPlanner.winningPlan` with FETCH over
IXSCAN, and for a pipeline also under its first stage's `$cursor`); these tests read it there.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson.decimal128 import Decimal128
from pymongo.errors import WriteError

from quartet.core.clock import utcnow
from quartet.schema import apply_mongo_schema
from quartet.settings import Settings
from quartet.shop.repository import (
    CATEGORY_INDEX,
    CREATED_INDEX,
    CUSTOMER_ID_INDEX,
    CUSTOMER_NAME_INDEX,
    ID_INDEX,
    OrderRepository,
    ProductRepository,
)
from quartet.stores.registry import Stores
from tests.conftest import run_cli

DOCUMENT_FAILED_VALIDATION = 121


def _product(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "_id": uuid.uuid4(),
        "name": "n",
        "description": "",
        "category": "c",
        "price": Decimal128("1.00"),
        "stock": 1,
        "is_available": True,
        "created_at": now,
        "updated_at": now,
        **overrides,
    }


def _order(**overrides: Any) -> dict[str, Any]:
    line = {
        "product_id": uuid.uuid4(),
        "name": "n",
        "quantity": 1,
        "unit_price": Decimal128("1.00"),
    }
    return {
        "_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "customer_name": "c",
        "items": [line],
        "total": Decimal128("1.00"),
        "status": "placed",
        "created_at": utcnow(),
        **overrides,
    }


async def test_valid_documents_are_accepted(stores: Stores) -> None:
    await stores.mongo["products"].insert_one(_product())
    await stores.mongo["orders"].insert_one(_order())


@pytest.mark.parametrize(
    "document",
    [
        _product(stock=-1),
        _product(price=Decimal128("-0.01")),
        _product(price="1.00"),
        _product(price=1.0),
        _product(name=""),
        _product(extra=True),
        _product(created_at="2024-01-01"),
        {k: v for k, v in _product().items() if k != "category"},
    ],
)
async def test_bad_products_are_refused_by_the_database(
    stores: Stores, document: dict[str, Any]
) -> None:
    with pytest.raises(WriteError) as refused:
        await stores.mongo["products"].insert_one(document)
    assert refused.value.code == DOCUMENT_FAILED_VALIDATION


@pytest.mark.parametrize(
    "document",
    [
        _order(items=[]),
        _order(total=Decimal128("-1")),
        _order(status="shipped"),
        _order(customer_id="someone"),
        _order(
            items=[
                {
                    "product_id": uuid.uuid4(),
                    "name": "n",
                    "quantity": 0,
                    "unit_price": Decimal128("1"),
                }
            ]
        ),
        _order(
            items=[
                {
                    "product_id": uuid.uuid4(),
                    "name": "n",
                    "quantity": 1,
                    "unit_price": Decimal128("-1"),
                }
            ]
        ),
    ],
)
async def test_bad_orders_are_refused_by_the_database(
    stores: Stores, document: dict[str, Any]
) -> None:
    with pytest.raises(WriteError) as refused:
        await stores.mongo["orders"].insert_one(document)
    assert refused.value.code == DOCUMENT_FAILED_VALIDATION


async def test_an_update_taking_stock_below_zero_is_refused_by_the_database(
    stores: Stores,
) -> None:
    document = _product(stock=2)
    await stores.mongo["products"].insert_one(document)
    with pytest.raises(WriteError) as refused:
        await stores.mongo["products"].update_one({"_id": document["_id"]}, {"$inc": {"stock": -3}})
    assert refused.value.code == DOCUMENT_FAILED_VALIDATION


async def _index_names(stores: Stores, collection: str) -> set[str]:
    return {i["name"] async for i in await stores.mongo[collection].list_indexes()}


async def test_start_up_created_the_indexes(stores: Stores) -> None:
    assert await _index_names(stores, "products") == {ID_INDEX, CATEGORY_INDEX}
    assert await _index_names(stores, "orders") == {
        ID_INDEX,
        CREATED_INDEX,
        CUSTOMER_NAME_INDEX,
        CUSTOMER_ID_INDEX,
    }


async def test_schema_is_idempotent_and_the_command_applies_it(
    stores: Stores, settings: Settings
) -> None:
    await apply_mongo_schema(stores.mongo)
    await apply_mongo_schema(stores.mongo)
    name = f"{settings.MONGODB_DB}_schema"
    try:
        result = run_cli("schema", env={"MONGODB_DB": name})
        assert result.returncode == 0, result.stderr
        assert f"mongodb validators and indexes to {name}" in result.stdout
        db = stores.mongo_client[name]
        names = {i["name"] async for i in await db["orders"].list_indexes()}
        assert CUSTOMER_NAME_INDEX in names
        info = await (await db.list_collections(filter={"name": "products"})).to_list()
        assert info[0]["options"]["validationAction"] == "error"
        assert "$jsonSchema" in info[0]["options"]["validator"]
    finally:
        await stores.mongo_client.drop_database(name)


async def test_the_category_filter_scans_its_index(stores: Stores) -> None:
    products = ProductRepository(stores.mongo)
    for available in (None, True, False):
        plan = await products.explain_list(category="books", available=available)
        assert plan.index_scan, plan
        assert plan.indexes == (CATEGORY_INDEX,)
        assert plan.stages[-2:] == ("FETCH", "IXSCAN")
    unfiltered = await products.explain_list(category=None, available=None)
    assert unfiltered.indexes == (ID_INDEX,)


async def test_both_stats_pipelines_match_through_an_index(stores: Stores) -> None:
    orders = OrderRepository(stores.mongo)
    end = datetime.now(UTC)
    sold = await orders.explain_sold_between(end - timedelta(days=7), end)
    assert sold.index_scan, sold
    assert sold.indexes == (CREATED_INDEX,)
    customer = await orders.explain_customer_totals("someone")
    assert customer.index_scan, customer
    assert customer.indexes == (CUSTOMER_NAME_INDEX,)


async def test_recent_orders_scan_an_index(stores: Stores) -> None:
    orders = OrderRepository(stores.mongo)
    since = datetime.now(UTC) - timedelta(days=30)
    everyone = await orders.explain_recent(since=since, customer_id=None)
    assert everyone.indexes == (CREATED_INDEX,)
    mine = await orders.explain_recent(since=since, customer_id=uuid.uuid4())
    assert mine.indexes == (CUSTOMER_ID_INDEX,)


async def test_money_round_trips_as_decimal128(stores: Stores) -> None:
    products = ProductRepository(stores.mongo)
    document = _product(price=Decimal128("19.99"))
    await stores.mongo["products"].insert_one(document)
    product = await products.get(document["_id"])
    assert product.price == Decimal("19.99")
    stored = await stores.mongo["products"].find_one({"_id": document["_id"]})
    assert stored is not None
    assert isinstance(stored["price"], Decimal128)
    assert isinstance(stored["_id"], uuid.UUID)
