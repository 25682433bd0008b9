"""`Annotated` dependency aliases for the stores; endpoints hand these to services/repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.cassandra import CassandraStore
from quartet.stores.mongo import MongoDatabase
from quartet.stores.postgres import TransactionRunner, unit_of_work
from quartet.stores.registry import Stores


# Plain `def` dependencies would each cost a thread-pool hop per request: all are async.
async def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]


async def get_db_session(stores: StoresDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits before the response is sent, rolls back on error."""
    async with unit_of_work(stores.sessionmaker) as session:
        yield session


async def get_read_session(stores: StoresDep) -> AsyncIterator[AsyncSession]:
    """A unit of work for a route that only reads (`Stores.read_sessionmaker`): no BEGIN, no
    COMMIT, the same outage translation."""
    async with unit_of_work(stores.read_sessionmaker) as session:
        yield session


async def get_transactions(stores: StoresDep) -> TransactionRunner:
    return stores.transactions


async def get_redis(stores: StoresDep) -> Redis:
    return stores.redis


async def get_mongo(stores: StoresDep) -> MongoDatabase:
    return stores.mongo


async def get_cassandra(stores: StoresDep) -> CassandraStore:
    return stores.cassandra


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
TransactionRunnerDep = Annotated[TransactionRunner, Depends(get_transactions)]
RedisDep = Annotated[Redis, Depends(get_redis)]
MongoDatabaseDep = Annotated[MongoDatabase, Depends(get_mongo)]
CassandraStoreDep = Annotated[CassandraStore, Depends(get_cassandra)]
