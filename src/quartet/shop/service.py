"""Shop rules: who may see which order, how an order takes stock all or nothing, what the stats
mean. Stateless; the repositories do every read and write."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.tokens import Principal
from quartet.core.clock import to_millis, utcnow
from quartet.core.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from quartet.core.pagination import CursorPage
from quartet.shop.errors import OutOfStockError, ProductUnavailableError
from quartet.shop.limits import MAX_STOCK
from quartet.shop.models import CustomerTotals, Order, OrderLine, Product, SoldLine
from quartet.shop.permissions import SHOP_ORDERS_READ_ANY
from quartet.shop.repository import OrderRepository, ProductRepository
from quartet.shop.schemas import (
    CENT,
    OrderCreate,
    OrderItemIn,
    ProductCreate,
    ProductUpdate,
    StockChange,
)
from quartet.stores.mongo_repository import MongoSession
from quartet.stores.mongo_transactions import MongoTransactions
from quartet.users.repository import UserRepository

logger = logging.getLogger(__name__)


def _new_product(body: ProductCreate) -> Product:
    now = to_millis(utcnow())
    return Product(**body.model_dump(), created_at=now, updated_at=now)


@dataclass(frozen=True)
class ProductService:
    products: ProductRepository
    transactions: MongoTransactions

    async def create(self, body: ProductCreate) -> Product:
        product = _new_product(body)
        await self.products.insert(product)
        return product

    async def create_many(self, bodies: Sequence[ProductCreate]) -> list[Product]:
        """All or nothing: one transaction, or without transactions the inserted ones are
        deleted again if the insert stops part way."""
        products = [_new_product(body) for body in bodies]

        async def work(session: MongoSession | None) -> None:
            try:
                await self.products.insert_many(products, session)
            except BaseException:
                if session is None:
                    await asyncio.shield(self.products.delete_ids([p.id for p in products]))
                raise

        await self.transactions.run(work)
        return products

    async def page(
        self, *, category: str | None, available: bool | None, limit: int, cursor: str | None
    ) -> CursorPage[Product]:
        return await self.products.page(
            category=category, available=available, limit=limit, cursor=cursor
        )

    async def get(self, product_id: uuid.UUID) -> Product:
        return await self.products.get(product_id)

    async def update(self, product_id: uuid.UUID, body: ProductUpdate) -> Product:
        changed = await self.products.set_fields(product_id, body.changes())
        if changed is None:
            raise NotFoundError(f"Product {product_id} not found")
        return changed

    async def change_stock(self, product_id: uuid.UUID, body: StockChange) -> Product:
        if body.stock is not None:
            changed = await self.products.set_fields(product_id, {"stock": body.stock})
        else:
            assert body.delta is not None
            changed = await self.products.adjust_stock(product_id, body.delta)
        if changed is not None:
            return changed
        product = await self.products.get(product_id)
        assert body.delta is not None  # setting only fails when the product does not exist
        if body.delta < 0:
            raise OutOfStockError(
                f"Product {product.id} has {product.stock} in stock; cannot remove {-body.delta}"
            )
        raise ConflictError(
            f"Product {product.id} has {product.stock} in stock; adding {body.delta} "
            f"would exceed {MAX_STOCK}"
        )

    async def delete_unavailable(self) -> int:
        return await self.products.delete_unavailable()


@dataclass(frozen=True)
class OrderService:
    products: ProductRepository
    orders: OrderRepository
    transactions: MongoTransactions

    async def place(self, user: Principal, body: OrderCreate, db: AsyncSession) -> Order:
        """Take each item's stock with a guarded update and record the order, all in one
        transaction; without transactions, a refusal gives back the stock already taken. Either
        way a refused order leaves no trace and stock never goes below zero."""
        customer_name = body.customer_name or await self._display_name(db, user.user_id)

        async def work(session: MongoSession | None) -> Order:
            taken: list[tuple[uuid.UUID, int]] = []
            try:
                lines = []
                for item in body.items:
                    product = await self.products.take_stock(
                        item.product_id, item.quantity, session
                    )
                    if product is None:
                        raise await self._refusal(item, session)
                    taken.append((product.id, item.quantity))
                    lines.append(
                        OrderLine(
                            product_id=product.id,
                            name=product.name,
                            quantity=item.quantity,
                            unit_price=product.price,
                        )
                    )
                order = Order(
                    customer_id=user.user_id,
                    customer_name=customer_name,
                    items=lines,
                    total=sum((li.unit_price * li.quantity for li in lines), start=Decimal("0.00")),
                    status="placed",
                    created_at=to_millis(utcnow()),
                )
                await self.orders.insert(order, session)
                return order
            except BaseException:
                if session is None and taken:
                    await asyncio.shield(self._give_back(taken))
                raise

        return await self.transactions.run(work)

    async def _give_back(self, taken: list[tuple[uuid.UUID, int]]) -> None:
        try:
            await self.products.return_stock(taken)
        except Exception:
            logger.error("stock taken for a refused order was not given back: %s", taken)
            raise

    async def _refusal(self, item: OrderItemIn, session: MongoSession | None) -> AppError:
        product = await self.products.get_or_none(item.product_id, session)
        if product is None:
            return NotFoundError(f"Product {item.product_id} not found")
        if not product.is_available:
            return ProductUnavailableError(
                f"Product {product.name!r} ({product.id}) is not available"
            )
        return OutOfStockError(
            f"Product {product.name!r} ({product.id}) has {product.stock} in stock; "
            f"{item.quantity} requested"
        )

    @staticmethod
    async def _display_name(db: AsyncSession, user_id: uuid.UUID) -> str:
        user = await UserRepository(db).get_or_none(user_id)
        if user is None:
            raise UnauthorizedError()
        return user.full_name or user.email

    async def recent(self, user: Principal, *, days: int, limit: int) -> list[Order]:
        """With shop.orders_read_any everyone's orders, else the caller's own."""
        return await self.orders.recent(
            since=utcnow() - timedelta(days=days),
            customer_id=None if user.has(SHOP_ORDERS_READ_ANY) else user.user_id,
            limit=limit,
        )

    async def get(self, user: Principal, order_id: uuid.UUID) -> Order:
        """Someone else's order is a 404, not a 403: its existence is not disclosed."""
        order = await self.orders.get_or_none(order_id)
        if order is None or not (
            user.has(SHOP_ORDERS_READ_ANY) or order.customer_id == user.user_id
        ):
            raise NotFoundError(f"Order {order_id} not found")
        return order


@dataclass(frozen=True)
class StatsService:
    orders: OrderRepository

    async def sold(self, start: datetime, end: datetime) -> list[SoldLine]:
        if start >= end:
            raise ValidationFailedError("start must be before end")
        return await self.orders.sold_between(start, end)

    async def customer(self, name: str) -> CustomerTotals:
        totals = await self.orders.customer_totals(name)
        if totals is None:
            raise NotFoundError(f"No orders for customer {name!r}")
        average = totals.average_order.quantize(CENT, rounding=ROUND_HALF_UP)
        return CustomerTotals(
            order_count=totals.order_count,
            total_spent=totals.total_spent,
            average_order=average,
            first_order_at=totals.first_order_at,
            last_order_at=totals.last_order_at,
        )
