"""Issue 6 benchmark: POST /api/v1/orders/ per second and GET /api/v1/stats/customer/{name}
p50/p99 over 100,000 orders, each beside a raw ceiling measured in the same run.

1. Dedicated stores named quartet_bench_shop (database migrated by `quartet db upgrade`,
   keyspace and Mongo validators and indexes by `quartet schema`, all dropped at the end); a
   superuser made through UserRepository and logged in through the API.
2. 200 products with a large stock, then 100,000 orders bulk-inserted with `insert_many`
   (1,000 customers of about 99 orders each, and one big customer of 1,000).
3. POST /orders/ on ONE uvicorn worker, one random product per order (spread), then every order
   for the same product (hot: transactions conflict and retry), then spread again on a second
   app with MONGODB_TRANSACTIONS=off (guarded updates with compensation).
   Ceiling: the same work with PyMongo alone (guarded find_one_and_update + insert_one in a
   transaction), and a bare insert_one, at the same concurrency.
4. GET /stats/customer/{name} back to back on one connection for a typical and the big
   customer. Ceiling: the same pipeline with PyMongo alone, back to back.

Usage: .venv/bin/python -m bench.shop [--duration 10] [--concurrency 16] [--orders 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient, ReturnDocument

from bench.common import (
    API,
    RESULT_HEADERS,
    BenchError,
    LoadResult,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    result_row,
    run,
    run_load,
    summarise,
    uvicorn_server,
)
from quartet.core.clock import utcnow
from quartet.core.ids import uuid7
from quartet.core.security import PasswordHasher
from quartet.settings import Settings
from quartet.shop.repository import customer_pipeline
from quartet.stores import mongo
from quartet.stores.registry import Stores
from quartet.users.models import User
from quartet.users.repository import UserRepository

NAME = "quartet_bench_shop"  # its database, Mongo database, keyspace and Redis prefix
PRODUCTS = 200
CUSTOMERS = 1000
BIG_CUSTOMER_ORDERS = 1_000
INSERT_BATCH = 10_000
STATS_CONCURRENCY = 1  # back to back on one connection: latency without queueing


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrency: int
    orders: int


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.shop", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=16, help="connections for orders")
    parser.add_argument("--orders", type=int, default=100_000, help="orders bulk-inserted")
    args = parser.parse_args()
    if not (
        0 < args.duration <= 300
        and 0 <= args.warmup <= 60
        and 1 <= args.concurrency <= 256
        and BIG_CUSTOMER_ORDERS < args.orders <= 1_000_000
    ):
        parser.error(
            f"duration in (0, 300], warmup in [0, 60], concurrency 1-256, "
            f"orders in ({BIG_CUSTOMER_ORDERS}, 1000000]"
        )
    return Options(args.duration, args.warmup, args.concurrency, args.orders)


# -- data ------------------------------------------------------------------------------------


def _product(i: int) -> dict[str, Any]:
    now = utcnow().replace(microsecond=0)
    return {
        "_id": uuid7(),
        "name": f"bench product {i}",
        "description": "",
        "category": f"category {i % 10}",
        "price": Decimal128(str(Decimal(1 + i % 50) + Decimal("0.99"))),
        "stock": 1_000_000_000,
        "is_available": True,
        "created_at": now,
        "updated_at": now,
    }


def _order(
    rng: random.Random, products: list[dict[str, Any]], customer: tuple[uuid.UUID, str]
) -> dict[str, Any]:
    lines = []
    for product in rng.sample(products, rng.randint(1, 3)):
        lines.append(
            {
                "product_id": product["_id"],
                "name": product["name"],
                "quantity": rng.randint(1, 4),
                "unit_price": product["price"],
            }
        )
    total = sum(line["unit_price"].to_decimal() * line["quantity"] for line in lines)
    created = utcnow().replace(microsecond=0) - timedelta(seconds=rng.randrange(60 * 86_400))
    return {
        "_id": uuid7(),
        "customer_id": customer[0],
        "customer_name": customer[1],
        "items": lines,
        "total": Decimal128(str(total)),
        "status": "placed",
        "created_at": created,
    }


async def seed(db: mongo.MongoDatabase, count: int) -> tuple[list[dict[str, Any]], float]:
    """The catalogue and `count` orders (insert_many in batches); returns the products and the
    bulk insert rate in documents per second."""
    rng = random.Random(6)
    products = [_product(i) for i in range(PRODUCTS)]
    await db["products"].insert_many(products)
    customers = [(uuid.uuid4(), f"customer {i:04d}") for i in range(CUSTOMERS)]
    big = (uuid.uuid4(), "big customer")
    owners = [big] * BIG_CUSTOMER_ORDERS + [
        customers[i % CUSTOMERS] for i in range(count - BIG_CUSTOMER_ORDERS)
    ]
    rng.shuffle(owners)
    started = time.perf_counter()
    for first in range(0, count, INSERT_BATCH):
        batch = [_order(rng, products, owner) for owner in owners[first : first + INSERT_BATCH]]
        await db["orders"].insert_many(batch, ordered=False)
    return products, count / (time.perf_counter() - started)


async def superuser_token(settings: Settings, base_url: str) -> str:
    """A superuser inserted through UserRepository, then logged in through the API."""
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-7"
    hasher = PasswordHasher(settings.BCRYPT_ROUNDS, workers=1)
    stores = Stores(settings)
    try:
        async with stores.sessionmaker() as session:
            user = User(
                email=email,
                full_name="Bench Admin",
                hashed_password=await hasher.hash(password),
                is_superuser=True,
            )
            await UserRepository(session).create(user)
            await session.commit()
    finally:
        hasher.close()
        await stores.close()
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        login = await http.post(f"{API}/auth/login", json={"email": email, "password": password})
        if login.status_code != 200:
            raise BenchError(f"login answered {login.status_code}: {login.text[:500]}")
        return str(login.json()["access_token"])


# -- raw ceilings ----------------------------------------------------------------------------


async def raw_loop(
    operation: Callable[[], Awaitable[None]], *, concurrency: int, warmup: float, duration: float
) -> LoadResult:
    """`concurrency` tasks running `operation` back to back; counts what finishes inside the
    measured window (same window rules as the HTTP load loop)."""
    opens = time.perf_counter() + warmup
    closes = opens + duration
    samples: list[float] = []

    async def worker() -> None:
        while (began := time.perf_counter()) < closes:
            await operation()
            done = time.perf_counter()
            if opens <= done < closes:
                samples.append(done - began)

    cpu0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu = 100 * (time.process_time() - cpu0) / (warmup + duration)
    return LoadResult(len(samples), 0, duration, summarise(samples), cpu, None)


def raw_order(
    client: AsyncMongoClient[mongo.MongoDocument],
    db: mongo.MongoDatabase,
    products: list[dict[str, Any]],
) -> Callable[[], Awaitable[None]]:
    """What POST /orders/ does to MongoDB for a one-item order, with PyMongo alone."""
    rng = random.Random(1)

    async def operation() -> None:
        product_id = rng.choice(products)["_id"]

        async def work(session: Any) -> None:
            product = await db["products"].find_one_and_update(
                {"_id": product_id, "is_available": True, "stock": {"$gte": 1}},
                {"$inc": {"stock": -1}, "$set": {"updated_at": utcnow()}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            assert product is not None
            line = {
                "product_id": product_id,
                "name": product["name"],
                "quantity": 1,
                "unit_price": product["price"],
            }
            await db["orders"].insert_one(
                {
                    "_id": uuid7(),
                    "customer_id": uuid.uuid4(),
                    "customer_name": "raw",
                    "items": [line],
                    "total": product["price"],
                    "status": "placed",
                    "created_at": utcnow(),
                },
                session=session,
            )

        async with client.start_session() as session:
            await session.with_transaction(work)

    return operation


def raw_insert(
    db: mongo.MongoDatabase, products: list[dict[str, Any]]
) -> Callable[[], Awaitable[None]]:
    rng = random.Random(2)
    customer = (uuid.uuid4(), "raw insert")

    async def operation() -> None:
        await db["orders"].insert_one(_order(rng, products, customer))

    return operation


def raw_customer_stats(db: mongo.MongoDatabase, name: str) -> Callable[[], Awaitable[None]]:
    pipeline = customer_pipeline(name)

    async def operation() -> None:
        rows = await (await db["orders"].aggregate(pipeline)).to_list()
        assert rows, name

    return operation


# -- run -------------------------------------------------------------------------------------


def ratio(app: LoadResult, ceiling: LoadResult) -> str:
    return f"{100 * app.per_second / ceiling.per_second:.0f}%" if ceiling.per_second else ""


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME)
    settings = Settings.model_validate(env)
    print(f"bench.shop on {machine_note()} at start")
    print(
        f"one uvicorn worker per app (uvloop, httptools, access log off); orders over "
        f"{options.concurrency} connections; {options.warmup:g} s warm-up, then "
        f"{options.duration:g} s measured per scenario"
    )
    client = mongo.create_client(settings)
    db = mongo.database(client, settings.MONGODB_DB)
    try:
        async with bench_stores(NAME, env):
            print(f"seeding {PRODUCTS} products and {options.orders} orders ...", flush=True)
            products, insert_rate = await seed(db, options.orders)
            async with (
                uvicorn_server("quartet.main:app", env) as app,
                uvicorn_server("quartet.main:app", {**env, "MONGODB_TRANSACTIONS": "off"}) as comp,
            ):
                token = await superuser_token(settings, app.url)
                bearer = {"Authorization": f"Bearer {token}"}
                rng = random.Random(3)

                def spread() -> dict[str, Any]:
                    product = rng.choice(products)["_id"]
                    return {"items": [{"product_id": str(product), "quantity": 1}]}

                hot = {"items": [{"product_id": str(products[0]["_id"]), "quantity": 1}]}
                post = partial(
                    run_load,
                    method="POST",
                    headers=bearer,
                    expect=201,
                    concurrency=options.concurrency,
                    warmup=options.warmup,
                    duration=options.duration,
                )
                raw_load = partial(
                    raw_loop,
                    concurrency=options.concurrency,
                    warmup=options.warmup,
                    duration=options.duration,
                )
                print("app: POST /orders/, spread ...", flush=True)
                placed = await post(f"{app.url}{API}/orders/", json=spread, watch=app)
                print("app: POST /orders/, one hot product ...", flush=True)
                hot_placed = await post(f"{app.url}{API}/orders/", json=hot, watch=app)
                print("app (compensation): POST /orders/, spread ...", flush=True)
                compensated = await post(f"{comp.url}{API}/orders/", json=spread, watch=comp)
                print("raw: guarded update + insert in a transaction ...", flush=True)
                raw_tx = await raw_load(raw_order(client, db, products))
                print("raw: insert_one ...", flush=True)
                raw_ins = await raw_load(raw_insert(db, products))

                stats: list[tuple[str, LoadResult, LoadResult]] = []
                for name in ("customer 0042", "big customer"):
                    print(f"app and raw: customer stats for {name!r} ...", flush=True)
                    url = f"{app.url}{API}/stats/customer/{name}"
                    served = await run_load(
                        url,
                        headers=bearer,
                        concurrency=STATS_CONCURRENCY,
                        warmup=options.warmup,
                        duration=options.duration,
                        watch=app,
                    )
                    raw = await raw_loop(
                        raw_customer_stats(db, name),
                        concurrency=STATS_CONCURRENCY,
                        warmup=options.warmup,
                        duration=options.duration,
                    )
                    stats.append((name, served, raw))
    finally:
        await client.close()

    orders_rows = [
        result_row("POST /orders/ spread (transactions)", placed, ratio(placed, raw_tx)),
        result_row(
            "POST /orders/ one hot product (transactions)", hot_placed, ratio(hot_placed, raw_tx)
        ),
        result_row("POST /orders/ spread (compensation)", compensated, ratio(compensated, raw_tx)),
        result_row("ceiling: pymongo take stock + insert in a transaction", raw_tx, "ceiling"),
        result_row("ceiling: pymongo insert_one of an order", raw_ins),
    ]
    stats_rows = []
    for name, served, raw in stats:
        stats_rows.append(result_row(f"GET /stats/customer/{name}", served, ratio(served, raw)))
        stats_rows.append(result_row(f"ceiling: pymongo aggregate, {name}", raw, "ceiling"))
    print_table(
        f"Orders, {options.concurrency} connections (latencies in ms; CPU: 100% = one core)",
        RESULT_HEADERS,
        orders_rows,
    )
    print_table(
        f"Customer stats over {options.orders} orders, one connection back to back",
        RESULT_HEADERS,
        stats_rows,
    )
    print(
        f"\nseeding: insert_many of {options.orders} orders at {insert_rate:,.0f} documents/s\n"
        "\nnotes:\n"
        "- the load generator (httpx on uvloop, this process) and the raw ceilings run on the\n"
        "  same machine as the app and SecantusDB: figures to compare within one run\n"
        "- each POST /orders/ also checks the token (Redis), runs the rate limiter, reads the\n"
        "  user's name from PostgreSQL and validates with pydantic; the ceiling does only the\n"
        "  MongoDB work\n"
        "- hot product: every order updates the same document, so concurrent transactions hit\n"
        "  write conflicts and PyMongo retries them with backoff\n"
        f"- {machine_note()} at the end: other work on the machine moves every figure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
