"""Issue 18 benchmark: `GET /api/v1/dashboard/all-statistics` at 100k users.

1. Dedicated stores named quartet_bench_dashboard (migrated, seeded: permissions, groups and
   the superuser), dropped at the end. 100k users are loaded with COPY (creation times spread
   over a year, a mix of countries, languages and statuses) and 10k orders with insert_many.
2. ONE uvicorn worker of the app; the superuser (every permission) asks.
3. Cold: a bounded loop of requests, each after the dashboard's cache entries are dropped, so
   every section is computed by its database (all of them at once). Warm: wrk on the cached
   answer for a few seconds.

Usage: .venv/bin/python -m bench.dashboard [--users 100000] [--cold 15] [--duration 8]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from bench.common import (
    API,
    REDIS_URL,
    SUPERUSER,
    BenchError,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    quartet_cli,
    run,
    uvicorn_server,
)
from bench.wrk_runner import run_wrk
from quartet.settings import DEV_SUPERUSER_PASSWORD, Settings

NAME = "quartet_bench_dashboard"
PATH = f"{API}/dashboard/all-statistics"
COUNTRIES = ["FR", "DE", "US", "JP", "BR", "GB", None]
LANGUAGES = ["en", "fr", "de", "pt-BR", "es"]
STATUSES = ["active"] * 8 + ["inactive", "suspended"]
COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "email",
    "is_active",
    "is_superuser",
    "is_email_verified",
    "is_phone_verified",
    "status",
    "auth_type",
    "language",
    "timezone",
    "country",
    "authz_version",
    "profile_visibility",
    "show_email",
    "show_phone",
    "show_country",
    "theme",
)
ORDERS = 10_000


@dataclass(frozen=True)
class Options:
    users: int
    cold: int
    duration: int


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--cold", type=int, default=15, help="cold requests (cache dropped)")
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk on the warm path")
    args = parser.parse_args()
    if not (1 <= args.users <= 2_000_000 and 1 <= args.cold <= 200 and 1 <= args.duration <= 60):
        parser.error("users 1-2M, cold 1-200, duration 1-60 s")
    return Options(args.users, args.cold, args.duration)


def _user_rows(count: int) -> list[tuple[object, ...]]:
    rng = random.Random(18)
    now = datetime.now(UTC)
    rows: list[tuple[object, ...]] = []
    for n in range(count):
        created = now - timedelta(seconds=rng.randrange(365 * 86_400))
        status = rng.choice(STATUSES)
        rows.append(
            (
                uuid.uuid4(),
                created.isoformat(),
                created.isoformat(),
                f"bench{n}@dashboard.invalid",
                status == "active",
                False,
                rng.random() < 0.7,
                False,
                status,
                rng.choice(["password", "password", "otp", "oauth"]),
                rng.choice(LANGUAGES),
                "UTC",
                rng.choice(COUNTRIES) or "",
                0,
                "public",
                False,
                False,
                True,
                "system",
            )
        )
    return rows


async def seed_users(database_url: str, count: int) -> None:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        # text COPY: citext (the email column) has no binary encoder in asyncpg
        buffer = io.StringIO()
        csv.writer(buffer).writerows(_user_rows(count))
        data = io.BytesIO(buffer.getvalue().encode())
        await connection.copy_to_table("users", source=data, columns=COLUMNS, format="csv", null="")
        await connection.execute("ANALYZE users")
    finally:
        await connection.close()


async def seed_orders(env: dict[str, str]) -> None:
    settings = Settings.model_validate(env)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        settings.MONGODB_URL, uuidRepresentation="standard"
    )
    now = datetime.now(UTC)
    try:
        orders = client[settings.MONGODB_DB]["orders"]
        documents = [
            {
                "_id": uuid.uuid4(),
                "customer_id": uuid.uuid4(),
                "customer_name": f"customer {n % 500}",
                "items": [
                    {
                        "product_id": uuid.uuid4(),
                        "name": "bench item",
                        "quantity": 1 + n % 3,
                        "unit_price": Decimal128(Decimal("4.50")),
                    }
                ],
                "total": Decimal128(Decimal("4.50") * (1 + n % 3)),
                "status": "placed",
                "created_at": (now - timedelta(minutes=n)).replace(microsecond=0),
            }
            for n in range(ORDERS)
        ]
        await orders.insert_many(documents, ordered=False)
    finally:
        await client.close()


async def drop_dashboard_cache(redis: Redis, prefix: str) -> None:
    keys = [key async for key in redis.scan_iter(match=f"{prefix}cache:{{dashboard:*", count=500)]
    if keys:
        await redis.unlink(*keys)


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME)
    print(f"bench.dashboard on {machine_note()} at start")
    async with bench_stores(NAME, env) as database_url:
        await quartet_cli(env, "db", "seed")
        started = time.perf_counter()
        await seed_users(database_url, options.users)
        await seed_orders(env)
        print(
            f"seeded {options.users:,} users (COPY) and {ORDERS:,} orders in "
            f"{time.perf_counter() - started:.1f}s",
            flush=True,
        )
        redis = Redis.from_url(REDIS_URL)
        try:
            async with uvicorn_server("quartet.main:app", env) as app:
                async with httpx.AsyncClient(base_url=app.url, timeout=60.0) as http:
                    login = await http.post(
                        f"{API}/auth/login",
                        json={"email": SUPERUSER, "password": DEV_SUPERUSER_PASSWORD},
                    )
                    if login.status_code != 200:
                        raise BenchError(f"login answered {login.status_code}: {login.text}")
                    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                    cold: list[float] = []
                    for _ in range(options.cold):
                        await drop_dashboard_cache(redis, env["REDIS_KEY_PREFIX"])
                        began = time.perf_counter()
                        answer = await http.get(PATH, headers=headers)
                        cold.append(1000 * (time.perf_counter() - began))
                        if answer.status_code != 200:
                            raise BenchError(f"{PATH} answered {answer.status_code}: {answer.text}")
                    users = answer.json()["overview"]["users"]
                warm = await run_wrk(
                    f"{app.url}{PATH}", duration=options.duration, connections=8, headers=headers
                )
        finally:
            await redis.aclose()
    cold.sort()
    print_table(
        f"GET {PATH} with {users:,} users (latencies in ms)",
        ["case", "requests", "p50", "p99 / max", "req/s"],
        [
            [
                "cold (every section computed)",
                str(len(cold)),
                f"{statistics.median(cold):.1f}",
                f"{cold[-1]:.1f}",
                f"{1000 / statistics.mean(cold):.1f}",
            ],
            [
                f"warm (cached, wrk -c8 {options.duration}s)",
                f"{warm.requests:,}",
                f"{warm.p50_ms:.2f}",
                f"{warm.p99_ms:.2f}",
                f"{warm.per_second:,.0f}",
            ],
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
