"""Raw ceilings for `bench.table`: what each measured endpoint does to its store, with none of
the app's layers (no middleware, no Redis, no SQLAlchemy, no pydantic), on plain Starlette.

- `/health/liveness`: bare Starlette.
- `/me`: pyjwt verifies the app's own access token, then ONE asyncpg `fetchrow` of the caller's
  `users` row (the same columns /auth/me answers).
- `/posts`: the first page of posts (`bench.posts_ceiling`).
- `/logs`: ONE cassandra-driver `execute_async` insert into `events_by_type`.
- `/orders`: the MongoDB work of POST /orders/ for a one-item order with PyMongo alone (guarded
  `find_one_and_update` and `insert_one` in a transaction).
- `/stats/{name}`: the customer-stats pipeline with PyMongo alone.

Serve with `uvicorn bench.ceiling_apps:app` with the app's settings in the environment.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import jwt
from cassandra.cluster import ResponseFuture, Session
from pymongo import ReturnDocument
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.ceiling_pool import pool_lifespan
from bench.posts_ceiling import posts
from bench.raw_ceiling import QUERY as USER_QUERY
from bench.raw_ceiling import liveness, row_json
from quartet.core.clock import to_millis, utcnow
from quartet.core.ids import uuid7
from quartet.events.repository import INSERT_BY_TYPE
from quartet.settings import get_settings
from quartet.shop.repository import customer_pipeline
from quartet.stores import mongo
from quartet.stores.cassandra import CassandraStore


async def me(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        claims = jwt.decode(
            token,
            settings.SECRET_KEY.get_secret_value(),
            algorithms=[settings.JWT_ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
        )
    except jwt.InvalidTokenError:
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    row = await request.app.state.pool.fetchrow(USER_QUERY, uuid.UUID(claims["sub"]))
    if scheme.lower() != "bearer" or row is None:
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    return JSONResponse(row_json(row))


def _bridge(future: ResponseFuture) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)

    def ok(result: Any) -> None:
        loop.call_soon_threadsafe(settle, result, None)

    def failed(error: BaseException) -> None:
        loop.call_soon_threadsafe(settle, None, error)

    future.add_callbacks(ok, failed)
    return done


async def logs(request: Request) -> JSONResponse:
    body = await request.json()
    session: Session = request.app.state.cassandra_session
    now = to_millis(datetime.now(UTC))
    event_id = uuid7()
    params = (body["event_type"], now.date(), now, event_id, "raw", body.get("metadata"), 0)
    await _bridge(session.execute_async(request.app.state.insert_event.bind(params)))
    return JSONResponse({"id": str(event_id)}, status_code=201)


async def orders(request: Request) -> JSONResponse:
    body = await request.json()
    product_id = uuid.UUID(body["items"][0]["product_id"])
    client = request.app.state.mongo_client
    db = request.app.state.mongo_db
    order_id = uuid7()

    async def work(session: Any) -> None:
        product = await db["products"].find_one_and_update(
            {"_id": product_id, "is_available": True, "stock": {"$gte": 1}},
            {"$inc": {"stock": -1}, "$set": {"updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        line = {"product_id": product_id, "name": product["name"], "quantity": 1}
        await db["orders"].insert_one(
            {
                "_id": order_id,
                "customer_id": uuid.uuid4(),
                "customer_name": "raw",
                "items": [{**line, "unit_price": product["price"]}],
                "total": product["price"],
                "status": "placed",
                "created_at": utcnow(),
            },
            session=session,
        )

    async with client.start_session() as session:
        await session.with_transaction(work)
    return JSONResponse({"id": str(order_id)}, status_code=201)


async def stats(request: Request) -> JSONResponse:
    pipeline = customer_pipeline(request.path_params["name"])
    rows = await (await request.app.state.mongo_db["orders"].aggregate(pipeline)).to_list()
    return JSONResponse({"orders": len(rows)})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = get_settings()
    app.state.settings = settings
    app.state.mongo_client = mongo.create_client(settings)
    app.state.mongo_db = mongo.database(app.state.mongo_client, settings.MONGODB_DB)
    cassandra = CassandraStore(settings)  # only for its configured cluster and session
    session = await cassandra.session()
    app.state.cassandra_session = session
    app.state.insert_event = await asyncio.to_thread(
        session.prepare, INSERT_BY_TYPE.replace("{ks}", settings.CASSANDRA_KEYSPACE)
    )
    try:
        async with pool_lifespan(app):
            yield
    finally:
        await cassandra.close()
        await app.state.mongo_client.close()


app = Starlette(
    routes=[
        Route("/health/liveness", liveness),
        Route("/me", me),
        Route("/posts", posts),
        Route("/logs", logs, methods=["POST"]),
        Route("/orders", orders, methods=["POST"]),
        Route("/stats/{name}", stats),
    ],
    lifespan=lifespan,
)
