"""Shop documents as stored in MongoDB (`products`, `orders`) and the shapes of their stats.

Money is `Decimal` here and Decimal128 in the database; times are timezone-aware UTC with
millisecond precision (a BSON date's).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from quartet.stores.mongo_repository import MongoModel

OrderStatus = Literal["placed"]


class ProductFields(BaseModel):
    """A product's own fields, which the stored document and the API's answer both carry."""

    name: str
    description: str
    category: str
    price: Decimal
    stock: int
    is_available: bool
    created_at: datetime
    updated_at: datetime


class Product(ProductFields, MongoModel):
    """A stored product: its fields under a UUIDv7 `_id`."""


class OrderLine(BaseModel):
    """One item of an order, with the product's name and price when it was ordered."""

    product_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal


class Order(MongoModel):
    customer_id: uuid.UUID
    customer_name: str
    items: list[OrderLine]
    total: Decimal
    status: OrderStatus
    created_at: datetime


@dataclass(frozen=True)
class SoldLine:
    product_id: uuid.UUID
    name: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class CustomerTotals:
    order_count: int
    total_spent: Decimal
    average_order: Decimal
    first_order_at: datetime
    last_order_at: datetime
