"""Shop endpoints: products (reads public, writes need shop.products_write), orders (any
signed-in user; everyone's with shop.orders_read_any), stats (shop.stats_read)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser
from quartet.core.errors import ConflictError, NotFoundError, ValidationFailedError, responses
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.idempotency.dependencies import IDEMPOTENCY_ERRORS, Idempotent
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission
from quartet.shop.dependencies import OrderServiceDep, ProductServiceDep, StatsServiceDep
from quartet.shop.errors import OutOfStockError, ProductUnavailableError
from quartet.shop.limits import CUSTOMER_NAME_MAX
from quartet.shop.permissions import SHOP_PRODUCTS_WRITE, SHOP_STATS_READ
from quartet.shop.schemas import (
    MAX_BULK,
    CustomerStatsOut,
    DeletedOut,
    OrderCreate,
    OrderOut,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    SoldOut,
    SoldProductOut,
    StockChange,
    as_utc,
)
from quartet.stores.dependencies import DbSession

products = APIRouter(prefix="/products", tags=["shop: products"])
orders = APIRouter(
    prefix="/orders", tags=["shop: orders"], responses=responses(*AUTHENTICATION_ERRORS)
)
stats = APIRouter(
    prefix="/stats",
    tags=["shop: stats"],
    dependencies=[RequirePermission(SHOP_STATS_READ)],
    responses=responses(*PERMISSION_ERRORS),
)

PRODUCTS_WRITE = [RequirePermission(SHOP_PRODUCTS_WRITE)]


@products.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*PERMISSION_ERRORS, *IDEMPOTENCY_ERRORS),
    dependencies=[*PRODUCTS_WRITE, Idempotent],
)
async def create_product(body: ProductCreate, service: ProductServiceDep) -> ProductOut:
    """Adds a product to the catalogue; an Idempotency-Key makes retries safe."""
    return ProductOut.model_validate(await service.create(body))


@products.post(
    "/bulk",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*PERMISSION_ERRORS, *IDEMPOTENCY_ERRORS),
    summary="Create several products at once, all or nothing",
    dependencies=[*PRODUCTS_WRITE, Idempotent],
)
async def create_products_in_bulk(
    body: Annotated[list[ProductCreate], Body(min_length=1, max_length=MAX_BULK)],
    service: ProductServiceDep,
) -> list[ProductOut]:
    """Adds up to MAX_BULK products, all or none."""
    return [ProductOut.model_validate(p) for p in await service.create_many(body)]


@products.get("/")
async def list_products(
    service: ProductServiceDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    available: bool | None = None,
) -> CursorPage[ProductOut]:
    """Products, optionally of one category or availability, keyset-paginated with an opaque
    cursor."""
    page = await service.page(category=category, available=available, limit=limit, cursor=cursor)
    return CursorPage[ProductOut].model_validate(page)


@products.delete(
    "/unavailable",
    responses=responses(*PERMISSION_ERRORS),
    dependencies=PRODUCTS_WRITE,
    summary="Delete every product marked unavailable",
)
async def delete_unavailable(service: ProductServiceDep) -> DeletedOut:
    """Answers how many products were deleted."""
    return DeletedOut(deleted=await service.delete_unavailable())


@products.get("/{product_id}", responses=responses(NotFoundError))
async def get_product(product_id: uuid.UUID, service: ProductServiceDep) -> ProductOut:
    """One product with its price and stock."""
    return ProductOut.model_validate(await service.get(product_id))


@products.patch(
    "/{product_id}",
    responses=responses(*PERMISSION_ERRORS, NotFoundError),
    dependencies=PRODUCTS_WRITE,
)
async def update_product(
    product_id: uuid.UUID, body: ProductUpdate, service: ProductServiceDep
) -> ProductOut:
    """Changes only the fields given."""
    return ProductOut.model_validate(await service.update(product_id, body))


@products.patch(
    "/{product_id}/stock",
    responses=responses(*PERMISSION_ERRORS, NotFoundError, OutOfStockError, ConflictError),
    dependencies=PRODUCTS_WRITE,
    summary='Set the stock ({"stock": n}) or adjust it ({"delta": d}); never below zero',
)
async def change_stock(
    product_id: uuid.UUID, body: StockChange, service: ProductServiceDep
) -> ProductOut:
    """An absolute value, or a delta applied atomically; going below zero is a 409 `out_of_stock`,
    above the maximum a 409 `conflict`."""
    return ProductOut.model_validate(await service.change_stock(product_id, body))


@orders.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        NotFoundError, OutOfStockError, ProductUnavailableError, *IDEMPOTENCY_ERRORS
    ),
    summary="Place an order: all items or none, priced server-side",
    dependencies=[Idempotent],
)
async def place_order(
    body: OrderCreate, user: CurrentUser, service: OrderServiceDep, db: DbSession
) -> OrderOut:
    """Takes the stock of every item atomically; a missing product is a 404, an unavailable one or
    short stock a 409, and then nothing is taken."""
    return OrderOut.model_validate(await service.place(user, body, db))


@orders.get(
    "/recent",
    summary="Orders of the last `days` days, newest first (everyone's with shop.orders_read_any)",
)
async def recent_orders(
    user: CurrentUser,
    service: OrderServiceDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> list[OrderOut]:
    """The caller's orders (everyone's with shop.orders_read_any), at most `limit`."""
    found = await service.recent(user, days=days, limit=limit)
    return [OrderOut.model_validate(order) for order in found]


@orders.get("/{order_id}", responses=responses(NotFoundError))
async def get_order(order_id: uuid.UUID, user: CurrentUser, service: OrderServiceDep) -> OrderOut:
    """One order: the caller's own, or any with shop.orders_read_any; else a 404."""
    return OrderOut.model_validate(await service.get(user, order_id))


@stats.get(
    "/sold",
    responses=responses(ValidationFailedError),
    summary="Units sold per product over orders created in [start, end)",
)
async def sold(
    start: Annotated[datetime, Query(description="ISO 8601; UTC when no offset is given")],
    end: Annotated[datetime, Query(description="ISO 8601, exclusive; UTC when no offset")],
    service: StatsServiceDep,
) -> SoldOut:
    """Aggregated per product; `start` must be before `end`."""
    start, end = as_utc(start), as_utc(end)
    lines = await service.sold(start, end)
    return SoldOut(
        start=start,
        end=end,
        total_quantity=sum(line.quantity for line in lines),
        by_product=[SoldProductOut.model_validate(line) for line in lines],
    )


@stats.get(
    "/customer/{name}",
    responses=responses(NotFoundError),
    summary="Order count, total and average spent, first and last order of a customer name",
)
async def customer_stats(
    name: Annotated[str, Path(min_length=1, max_length=CUSTOMER_NAME_MAX)],
    service: StatsServiceDep,
) -> CustomerStatsOut:
    """Aggregated over every order of that customer name; none is a 404."""
    totals = await service.customer(name)
    return CustomerStatsOut(customer=name, **vars(totals))


router = APIRouter()
router.include_router(products)
router.include_router(orders)
router.include_router(stats)
