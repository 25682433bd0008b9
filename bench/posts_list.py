"""Issue 5 benchmark: GET /api/v1/posts?limit=50 over 10,000 posts and 100,000 likes, against
a raw ceiling measured in the same run.

1. Dedicated stores named quartet_bench_posts (database migrated by `quartet db upgrade`,
   Mongo database, Cassandra keyspace, Redis prefix), dropped at the end; ONE uvicorn worker
   of the app on them; a viewer registered and logged in through the API.
2. 1,000 users (the viewer among them), 10,000 posts and 100,000 likes bulk-loaded with COPY
   over a script-local asyncpg connection, then ANALYZE.
3. GET /api/v1/posts?limit=50 with the viewer's access token: 32 keep-alive connections for a
   fixed window after a warm-up (requests/s, p50, p99).
4. The same page from bench/posts_ceiling.py (Starlette + one raw asyncpg query, ONE worker),
   checked equal to the app's page first, under the same load.

Usage: .venv/bin/python bench/posts_list.py [--duration 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench.common import (
    API,
    RESULT_HEADERS,
    BenchError,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    result_row,
    run,
    run_load,
    uvicorn_server,
)
from bench.posts_ceiling import QUERY as CEILING_QUERY
from quartet.core.ids import uuid7

DB_NAME = "quartet_bench_posts"
USERS = 1_000
POSTS = 10_000
LIKES_PER_USER = 100  # 1,000 users x 100 distinct posts = 100,000 likes
VIEWER_LIKES_NEWEST = 25  # so the measured page has liked_by_me true and false
PAGE = 50
WORDS: tuple[str, ...] = ("post", "like", "async", "postgres", "index", "cursor", "page")
WORDS += ("author", "today", "coffee", "build", "ship", "test", "bench", "review", "merge")
WORDS += ("deploy", "hello")
# citext has no binary COPY format in asyncpg, so users go in with one INSERT over arrays.
INSERT_USERS = """
INSERT INTO users (id, email, full_name, is_active, is_superuser, is_email_verified,
                   is_phone_verified, status, auth_type, language, timezone, authz_version)
SELECT id, email, full_name, true, false, false, false, 'active', 'password', 'en', 'UTC', 0
FROM unnest($1::uuid[], $2::text[], $3::text[]) AS seed(id, email, full_name)
"""


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrency: int


@dataclass(frozen=True)
class Viewer:
    user_id: uuid.UUID
    access_token: str


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench/posts_list.py", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections")
    args = parser.parse_args()
    if not (0 < args.duration <= 300 and 0 <= args.warmup <= 60 and 1 <= args.concurrency <= 256):
        parser.error("duration in (0, 300], warmup in [0, 60], concurrency in [1, 256]")
    return Options(args.duration, args.warmup, args.concurrency)


async def register_viewer(base_url: str) -> Viewer:
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-7"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        registered = await http.post(
            f"{API}/auth/register",
            json={"email": email, "password": password, "full_name": "Bench Viewer"},
        )
        registered.raise_for_status()
        login = await http.post(f"{API}/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
    return Viewer(uuid.UUID(registered.json()["id"]), str(login.json()["access_token"]))


def _content(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(8, 40))).capitalize() + "."


async def seed(dsn: str, viewer: uuid.UUID) -> float:
    """Bulk-load users, then posts and likes with COPY; returns the milliseconds the page query
    takes inside PostgreSQL (EXPLAIN ANALYZE, warm)."""
    rng = random.Random(5)  # the same data every run
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        seeded = [uuid7() for _ in range(USERS - 1)]
        await conn.execute(
            INSERT_USERS,
            seeded,
            [f"seed-{n}@bench.example" for n in range(len(seeded))],
            [f"Seed User {n}" for n in range(len(seeded))],
        )
        authors = [*seeded, viewer]
        post_ids = [uuid7() for _ in range(POSTS)]  # increasing: the last is the newest
        await conn.copy_records_to_table(
            "posts",
            records=[(pid, rng.choice(authors), _content(rng)) for pid in post_ids],
            columns=["id", "author_id", "content"],
        )
        older, newest = post_ids[:-VIEWER_LIKES_NEWEST], post_ids[-VIEWER_LIKES_NEWEST:]
        viewer_likes = [*newest, *rng.sample(older, LIKES_PER_USER - VIEWER_LIKES_NEWEST)]
        likes = [(viewer, pid) for pid in viewer_likes]
        for user_id in seeded:
            likes += [(user_id, pid) for pid in rng.sample(post_ids, LIKES_PER_USER)]
        await conn.copy_records_to_table("likes", records=likes, columns=["user_id", "post_id"])
        await conn.execute("ANALYZE users, posts, likes")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM posts) AS posts,"
            " (SELECT count(*) FROM likes) AS likes"
        )
        seconds = time.perf_counter() - started
        for _ in range(3):  # warm the caches the measured runs will find warm
            await conn.fetch(CEILING_QUERY, viewer, PAGE + 1)
        plan = await conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {CEILING_QUERY}", viewer, PAGE + 1
        )
    finally:
        await conn.close()
    print(
        f"seeded {counts['users']:,} users, {counts['posts']:,} posts, "
        f"{counts['likes']:,} likes in {seconds:.1f} s",
        flush=True,
    )
    return float(_plan(plan)["Execution Time"])


def _plan(raw: Any) -> dict[str, Any]:
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    result: dict[str, Any] = parsed[0]
    return result


def _essentials(page: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (i["id"], i["author"]["id"], i["author"]["name"], i["like_count"], i["liked_by_me"])
        for i in page["items"]
    ]


async def check_same_page(app_url: str, ceiling_url: str, headers: dict[str, str]) -> None:
    """The ceiling must serve the page the app serves, or the comparison means nothing."""
    async with httpx.AsyncClient(timeout=30.0) as http:
        mine = (await http.get(app_url, headers=headers)).raise_for_status().json()
        raw = (await http.get(ceiling_url)).raise_for_status().json()
    if _essentials(mine) != _essentials(raw) or mine["next_cursor"] != raw["next_cursor"]:
        raise BenchError("the ceiling's page differs from the app's page")
    liked = sum(i["liked_by_me"] for i in mine["items"])
    likes = sum(i["like_count"] for i in mine["items"])
    print(
        f"pages match: {len(mine['items'])} posts, {likes} likes on them, {liked} liked by the "
        "viewer",
        flush=True,
    )


async def main() -> int:
    options = parse_options()
    # BCRYPT_ROUNDS: only the viewer's one login hashes, and it is not what is measured
    env = bench_env(DB_NAME, BCRYPT_ROUNDS="4")
    print(f"bench/posts_list.py on {machine_note()} at start")
    print(
        f"one uvicorn worker per server (uvloop, httptools, access log off); "
        f"{options.concurrency} connections; {options.warmup:g} s warm-up, "
        f"then {options.duration:g} s measured"
    )
    load = partial(
        run_load, concurrency=options.concurrency, warmup=options.warmup, duration=options.duration
    )
    async with (
        bench_stores(DB_NAME, env) as url,
        uvicorn_server("quartet.main:app", env) as app,
    ):
        viewer = await register_viewer(app.url)
        sql_ms = await seed(url.replace("+asyncpg", "", 1), viewer.user_id)
        async with uvicorn_server("bench.posts_ceiling:app", env) as ceiling:
            bearer = {"Authorization": f"Bearer {viewer.access_token}"}
            app_url = f"{app.url}{API}/posts?limit={PAGE}"
            ceiling_url = f"{ceiling.url}/posts?limit={PAGE}&viewer={viewer.user_id}"
            await check_same_page(app_url, ceiling_url, bearer)
            print(f"app: GET {API}/posts?limit={PAGE} ...", flush=True)
            mine = await load(app_url, headers=bearer, watch=app)
            print(f"raw ceiling: GET /posts?limit={PAGE} ...", flush=True)
            raw = await load(ceiling_url, watch=ceiling)

    print_table(
        "Results (latencies in ms; CPU: 100% = one core, client = this load generator)",
        RESULT_HEADERS,
        [
            result_row(
                f"GET {API}/posts?limit={PAGE} (app, authenticated)",
                mine,
                f"{100 * mine.per_second / raw.per_second:.0f}%" if raw.per_second else "",
            ),
            result_row(f"ceiling: Starlette + raw asyncpg, same {PAGE} posts", raw, "ceiling"),
        ],
    )
    print(
        "\nnotes:\n"
        f"- the page query alone takes {sql_ms:.2f} ms inside PostgreSQL (EXPLAIN ANALYZE);\n"
        "  the app sends it as its only SQL statement per request\n"
        "- each app request also runs the Redis rate limiter and the revocation MGET, a JWT\n"
        "  check, an ORM session and pydantic serialisation; the ceiling runs one query\n"
        "- the load generator runs on the same machine and takes CPU from the servers: compare\n"
        "  figures within one run; a client CPU near 100% means the client set the pace\n"
        f"- {machine_note()} at the end: other work on the machine moves every figure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
