"""The only code that queries the shop's collections: filters, guarded updates, pipelines, and
the validators and indexes the database enforces.

SecantusDB's planner picks an index by itself only for a single-field filter, so every query
here names its index with a hint (harmless on mongod, whose planner would pick the same one).
SecantusDB also ignores `$jsonSchema`'s `minimum` on Decimal128 fields, so money bounds are
repeated as query operators in the validators, which it and mongod both enforce.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from quartet.core.clock import to_millis, utcnow
from quartet.core.pagination import CursorPage
from quartet.shop import limits
from quartet.shop.models import (
    CustomerTotals,
    Order,
    Product,
    SoldLine,
)
from quartet.stores.mongo_repository import (
    CollectionSpec,
    IndexSpec,
    MongoRepository,
    MongoSession,
    QueryPlan,
)

_INT = {"bsonType": ["int", "long"]}
_UUID = {"bsonType": "binData"}
_DATE = {"bsonType": "date"}
_MONEY = {"bsonType": "decimal"}


def _text(min_length: int, max_length: int) -> dict[str, Any]:
    return {"bsonType": "string", "minLength": min_length, "maxLength": max_length}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "bsonType": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


CATEGORY_INDEX = "category_1__id_-1"
ID_INDEX = "_id_"

PRODUCTS = CollectionSpec(
    name="products",
    validator={
        "$jsonSchema": _object(
            {
                "_id": _UUID,
                "name": _text(1, limits.NAME_MAX),
                "description": _text(0, limits.DESCRIPTION_MAX),
                "category": _text(1, limits.CATEGORY_MAX),
                "price": _MONEY,
                "stock": {**_INT, "minimum": 0, "maximum": limits.MAX_STOCK},
                "is_available": {"bsonType": "bool"},
                "created_at": _DATE,
                "updated_at": _DATE,
            }
        ),
        "price": {"$gte": 0, "$lte": limits.MAX_PRICE},
    },
    # The category filter's index; its `_id` suffix gives each category newest first (mongod
    # reads a page straight from it, SecantusDB sorts the category's entries).
    indexes=(IndexSpec(CATEGORY_INDEX, (("category", 1), ("_id", -1))),),
)

CREATED_INDEX = "created_at_-1"
CUSTOMER_NAME_INDEX = "customer_name_1_created_at_-1"
CUSTOMER_ID_INDEX = "customer_id_1_created_at_-1"

ORDERS = CollectionSpec(
    name="orders",
    validator={
        "$jsonSchema": _object(
            {
                "_id": _UUID,
                "customer_id": _UUID,
                "customer_name": _text(1, limits.CUSTOMER_NAME_MAX),
                "items": {
                    "bsonType": "array",
                    "minItems": 1,
                    "maxItems": limits.MAX_ORDER_ITEMS,
                    "items": _object(
                        {
                            "product_id": _UUID,
                            "name": _text(1, limits.NAME_MAX),
                            "quantity": {**_INT, "minimum": 1, "maximum": limits.MAX_QUANTITY},
                            "unit_price": _MONEY,
                        }
                    ),
                },
                "total": _MONEY,
                "status": {"enum": ["placed"]},
                "created_at": _DATE,
            }
        ),
        "total": {"$gte": 0},
        "items.unit_price": {"$not": {"$lt": 0}},
    },
    indexes=(
        IndexSpec(CREATED_INDEX, (("created_at", -1),)),
        IndexSpec(CUSTOMER_NAME_INDEX, (("customer_name", 1), ("created_at", -1))),
        IndexSpec(CUSTOMER_ID_INDEX, (("customer_id", 1), ("created_at", -1))),
    ),
)

SHOP_COLLECTIONS = (PRODUCTS, ORDERS)


class ProductRepository(MongoRepository[Product]):
    spec = PRODUCTS
    model = Product

    @staticmethod
    def _filter(category: str | None, available: bool | None) -> tuple[dict[str, Any], str]:
        filter_: dict[str, Any] = {}
        if category is not None:
            filter_["category"] = category
        if available is not None:
            filter_["is_available"] = available
        return filter_, CATEGORY_INDEX if category is not None else ID_INDEX

    async def page(
        self,
        *,
        category: str | None,
        available: bool | None,
        limit: int,
        cursor: str | None,
    ) -> CursorPage[Product]:
        filter_, hint = self._filter(category, available)
        return await self.paginate(filter_, limit=limit, cursor=cursor, hint=hint)

    async def explain_list(self, *, category: str | None, available: bool | None) -> QueryPlan:
        filter_, hint = self._filter(category, available)
        return await self.explain_page(filter_, hint=hint)

    async def set_fields(self, id_: uuid.UUID, values: Mapping[str, Any]) -> Product | None:
        return await self.update(
            {"_id": id_}, {"$set": {**values, "updated_at": to_millis(utcnow())}}
        )

    async def adjust_stock(self, id_: uuid.UUID, delta: int) -> Product | None:
        """Add `delta` (negative removes) unless that would leave the stock out of bounds."""
        guard = {"$gte": -delta} if delta < 0 else {"$lte": limits.MAX_STOCK - delta}
        return await self.update(
            {"_id": id_, "stock": guard},
            {"$inc": {"stock": delta}, "$set": {"updated_at": to_millis(utcnow())}},
        )

    async def take_stock(
        self, id_: uuid.UUID, quantity: int, session: MongoSession | None
    ) -> Product | None:
        """Remove `quantity` from an available product's stock in one atomic step, only if that
        much is there; the product after it (with its current price), or None."""
        return await self.update(
            {"_id": id_, "is_available": True, "stock": {"$gte": quantity}},
            {"$inc": {"stock": -quantity}, "$set": {"updated_at": to_millis(utcnow())}},
            session,
        )

    async def return_stock(self, taken: Sequence[tuple[uuid.UUID, int]]) -> None:
        """Compensation: give back what `take_stock` removed."""
        for id_, quantity in taken:
            await self.collection.update_one({"_id": id_}, {"$inc": {"stock": quantity}})

    async def delete_unavailable(self) -> int:
        return (await self.collection.delete_many({"is_available": False})).deleted_count


def sold_pipeline(start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [
        {"$match": {"created_at": {"$gte": start, "$lt": end}}},
        {"$unwind": "$items"},
        {
            "$group": {
                "_id": "$items.product_id",
                "name": {"$last": "$items.name"},
                "quantity": {"$sum": "$items.quantity"},
                "revenue": {"$sum": {"$multiply": ["$items.unit_price", "$items.quantity"]}},
            }
        },
        {"$sort": {"quantity": -1, "_id": 1}},
    ]


def customer_pipeline(name: str) -> list[dict[str, Any]]:
    return [
        {"$match": {"customer_name": name}},
        {
            "$group": {
                "_id": None,
                "order_count": {"$sum": 1},
                "total_spent": {"$sum": "$total"},
                "average_order": {"$avg": "$total"},
                "first_order_at": {"$min": "$created_at"},
                "last_order_at": {"$max": "$created_at"},
            }
        },
    ]


class OrderRepository(MongoRepository[Order]):
    spec = ORDERS
    model = Order

    @staticmethod
    def _recent(since: datetime, customer_id: uuid.UUID | None) -> tuple[dict[str, Any], str]:
        filter_: dict[str, Any] = {"created_at": {"$gte": since}}
        if customer_id is None:
            return filter_, CREATED_INDEX
        return {"customer_id": customer_id, **filter_}, CUSTOMER_ID_INDEX

    async def recent(
        self, *, since: datetime, customer_id: uuid.UUID | None, limit: int
    ) -> list[Order]:
        """Orders since `since`, newest first; only `customer_id`'s when given."""
        filter_, hint = self._recent(since, customer_id)
        return await self.find(filter_, sort=[("created_at", -1)], limit=limit, hint=hint)

    async def explain_recent(self, *, since: datetime, customer_id: uuid.UUID | None) -> QueryPlan:
        filter_, hint = self._recent(since, customer_id)
        return await self.explain_find(filter_, sort=[("created_at", -1)], hint=hint)

    async def sold_between(self, start: datetime, end: datetime) -> list[SoldLine]:
        """Quantity and revenue per product over orders created in [start, end)."""
        rows = await self.aggregate(sold_pipeline(start, end))
        return [SoldLine(row["_id"], row["name"], row["quantity"], row["revenue"]) for row in rows]

    async def explain_sold_between(self, start: datetime, end: datetime) -> QueryPlan:
        return await self.explain_aggregate(sold_pipeline(start, end))

    async def customer_totals(self, name: str) -> CustomerTotals | None:
        rows = await self.aggregate(customer_pipeline(name))
        if not rows:
            return None
        row = rows[0]
        return CustomerTotals(
            order_count=row["order_count"],
            total_spent=row["total_spent"],
            average_order=row["average_order"],
            first_order_at=row["first_order_at"],
            last_order_at=row["last_order_at"],
        )

    async def explain_customer_totals(self, name: str) -> QueryPlan:
        return await self.explain_aggregate(customer_pipeline(name))
