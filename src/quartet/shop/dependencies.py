"""The shop's services, built per request over the app's Mongo database."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.shop.repository import OrderRepository, ProductRepository
from quartet.shop.service import OrderService, ProductService, StatsService
from quartet.stores.dependencies import MongoDatabaseDep, StoresDep
from quartet.stores.mongo_transactions import MongoTransactions


async def _transactions(stores: StoresDep, db: MongoDatabaseDep) -> MongoTransactions:
    return MongoTransactions(db, stores.settings.MONGODB_TRANSACTIONS)


MongoTransactionsDep = Annotated[MongoTransactions, Depends(_transactions)]


async def get_product_service(
    db: MongoDatabaseDep, transactions: MongoTransactionsDep
) -> ProductService:
    return ProductService(ProductRepository(db), transactions)


async def get_order_service(
    db: MongoDatabaseDep, transactions: MongoTransactionsDep
) -> OrderService:
    return OrderService(ProductRepository(db), OrderRepository(db), transactions)


async def get_stats_service(db: MongoDatabaseDep) -> StatsService:
    return StatsService(OrderRepository(db))


ProductServiceDep = Annotated[ProductService, Depends(get_product_service)]
OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]
StatsServiceDep = Annotated[StatsService, Depends(get_stats_service)]
