"""What the shop endpoints accept and answer. Money is a decimal string in JSON (numbers are
accepted on input), quantised to cents; unknown fields are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from quartet.core.schemas import PartialUpdate, ResponseModel, StrictInput, examples
from quartet.shop.limits import (
    CATEGORY_MAX,
    CUSTOMER_NAME_MAX,
    DESCRIPTION_MAX,
    MAX_ORDER_ITEMS,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_STOCK,
    NAME_MAX,
)
from quartet.shop.models import OrderStatus, ProductFields

CENT = Decimal("0.01")
MAX_BULK = 1000


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def as_utc(value: datetime) -> datetime:
    """A query time without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2),
    AfterValidator(_cents),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX, strip_whitespace=True)]
Category = Annotated[
    str, StringConstraints(min_length=1, max_length=CATEGORY_MAX, strip_whitespace=True)
]
CustomerName = Annotated[
    str, StringConstraints(min_length=1, max_length=CUSTOMER_NAME_MAX, strip_whitespace=True)
]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]


class ProductCreate(StrictInput):
    name: Name
    description: Description = ""
    category: Category
    price: Money
    stock: Stock = 0
    is_available: bool = True

    model_config = examples(
        {
            "name": "Espresso cup",
            "description": "Porcelain, 80 ml",
            "category": "kitchen",
            "price": "12.50",
            "stock": 40,
            "is_available": True,
        }
    )


class ProductUpdate(PartialUpdate):
    """A partial update: only the fields sent change (stock has its own endpoint)."""

    name: Name | None = None
    description: Description | None = None
    category: Category | None = None
    price: Money | None = None
    is_available: bool | None = None

    model_config = examples({"price": "11.90", "is_available": True})


class StockChange(StrictInput):
    """`{"stock": n}` sets the stock; `{"delta": d}` adds d (negative removes)."""

    stock: Stock | None = None
    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.stock is None) == (self.delta is None):
            raise ValueError("give exactly one of stock or delta")
        return self

    model_config = examples({"delta": -2})


class _StoredOut(ResponseModel):
    """An answer about a stored document: its id comes first."""

    id: uuid.UUID


class ProductOut(ProductFields, _StoredOut):
    model_config = examples(
        {
            "id": "0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f",
            "name": "Espresso cup",
            "description": "Porcelain, 80 ml",
            "category": "kitchen",
            "price": "12.50",
            "stock": 38,
            "is_available": True,
            "created_at": "2026-03-14T09:26:53Z",
            "updated_at": "2026-03-14T09:26:53Z",
        }
    )


class DeletedOut(BaseModel):
    deleted: int


class OrderItemIn(StrictInput):
    product_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class OrderCreate(StrictInput):
    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=MAX_ORDER_ITEMS)]
    customer_name: CustomerName | None = None

    @model_validator(mode="after")
    def _each_product_once(self) -> Self:
        ids = [item.product_id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("list each product once (with its total quantity)")
        return self

    model_config = examples(
        {"items": [{"product_id": "0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f", "quantity": 2}]}
    )


class OrderItemOut(ResponseModel):
    product_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal


class OrderOut(_StoredOut):
    model_config = examples(
        {
            "id": "0193c5b3-0a1f-7b2e-8c4d-5e6f7a8b9c0d",
            "customer_id": "0193c5b2-7e4a-7c3d-9f1e-2b6a8d4c1e07",
            "customer_name": "Ada Lovelace",
            "items": [
                {
                    "product_id": "0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f",
                    "name": "Espresso cup",
                    "quantity": 2,
                    "unit_price": "12.50",
                }
            ],
            "total": "25.00",
            "status": "placed",
            "created_at": "2026-03-14T09:26:53Z",
        }
    )

    customer_id: uuid.UUID
    customer_name: str
    items: list[OrderItemOut]
    total: Decimal
    status: OrderStatus
    created_at: datetime


class SoldProductOut(ResponseModel):
    product_id: uuid.UUID
    name: str
    quantity: int
    revenue: Decimal


class SoldOut(BaseModel):
    start: datetime
    end: datetime
    total_quantity: int
    by_product: list[SoldProductOut]


class CustomerStatsOut(BaseModel):
    customer: str
    order_count: int
    total_spent: Decimal
    average_order: Decimal
    first_order_at: datetime
    last_order_at: datetime
