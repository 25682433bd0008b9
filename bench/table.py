"""`make bench`: every measured endpoint beside its raw ceiling, in ONE table.

1. Dedicated stores named quartet_bench_table (migrated, keyspace and Mongo schema applied by
   the real CLI, all dropped at the end); a signed-in user (its access token: permissions from
   Redis) with 10,000 posts and 100,000 likes around it, a superuser for the logs and the shop,
   products and orders in MongoDB.
2. ONE uvicorn worker each (uvloop, httptools): the app, the raw ceilings
   (`bench.ceiling_apps`), a bare FastAPI app (`bench.bare_fastapi`) and a stand-in for
   full-stack-fastapi-template's `/users/me` (`bench.template_me`).
3. Interleaved rounds: in each round every endpoint and then its ceiling (the order flips
   every round), wrk with one thread and fixed connections. The ratio app/ceiling is taken per
   round; the table gives its median and min-max, so load from other work on the machine
   (which moves both sides of a round together) mostly cancels out.

Usage: .venv/bin/python -m bench.table [--duration 10] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bench import template_me
from bench.common import (
    API,
    BenchError,
    Server,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    run,
    uvicorn_server,
)
from bench.events import METADATA
from bench.events import superuser_token as promoted_superuser
from bench.posts_list import PAGE, register_viewer
from bench.posts_list import seed as seed_posts
from bench.shop import seed as seed_shop
from bench.wrk_runner import WrkResult, run_wrk
from quartet.settings import Settings
from quartet.stores import mongo

NAME = "quartet_bench_table"
ORDERS = 20_000
CUSTOMER = "customer 0001"


@dataclass(frozen=True)
class Options:
    duration: float
    rounds: int
    connections: int


@dataclass(frozen=True)
class Target:
    """One side of a pair: a URL on one server, with what wrk sends."""

    server: Server
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    bodies: tuple[str, ...] = ()

    async def measure(self, options: Options) -> tuple[WrkResult, float]:
        """wrk's result and the server's CPU (percent of one core) over the run."""
        cpu0 = self.server.cpu_seconds()
        result = await run_wrk(
            self.server.url + self.path,
            duration=options.duration,
            connections=options.connections,
            headers=self.headers,
            method=self.method,
            bodies=self.bodies,
        )
        return result, 100 * (self.server.cpu_seconds() - cpu0) / options.duration


@dataclass
class Pair:
    endpoint: str
    ceiling_name: str
    target: str
    app: Target
    ceiling: Target
    app_runs: list[tuple[WrkResult, float]] = field(default_factory=list)
    ceiling_runs: list[tuple[WrkResult, float]] = field(default_factory=list)

    def ratios(self) -> list[float]:
        """Per round: the app's successful answers per second over the ceiling's."""
        return [
            _ok_rate(a) / _ok_rate(c)
            for (a, _), (c, _) in zip(self.app_runs, self.ceiling_runs, strict=True)
            if _ok_rate(c)
        ]


def _ok_rate(result: WrkResult) -> float:
    """Answers per second that were not errors (non-2xx/3xx or socket errors)."""
    if not result.requests:
        return 0.0
    return result.per_second * max(result.requests - result.errors, 0) / result.requests


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.table", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    args = parser.parse_args()
    if not (1 <= args.duration <= 120 and 1 <= args.rounds <= 20 and 1 <= args.connections <= 256):
        parser.error("duration 1-120 s, rounds 1-20, connections 1-256")
    return Options(args.duration, args.rounds, args.connections)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _runs_summary(runs: Sequence[tuple[WrkResult, float]]) -> list[str]:
    results = [r for r, _ in runs]
    p50 = _median([r.p50_ms for r in results])
    p99 = _median([r.p99_ms for r in results])
    return [
        f"{_median([r.per_second for r in results]):,.0f}",
        f"{p50:.1f}",
        f"{p99:.1f}",
        f"{p99 / p50:.1f}" if p50 else "",
        f"{_median([r.client_cpu for r in results]):.0f}%",
        f"{_median([cpu for _, cpu in runs]):.0f}%",
        str(sum(r.errors for r in results)),
    ]


def report(pairs: Sequence[Pair], options: Options) -> None:
    headers = (
        *("endpoint / ceiling", "req/s", "p50", "p99", "p99/p50", "client CPU", "server CPU"),
        *("errors", "ratio (median)", "ratio min-max", "target"),
    )
    rows: list[list[str]] = []
    for pair in pairs:
        ratios = pair.ratios()
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else ""
        median = f"{_median(ratios):.2f}x"
        rows.append([pair.endpoint, *_runs_summary(pair.app_runs), median, spread, pair.target])
        rows.append(
            [f"  ceiling: {pair.ceiling_name}", *_runs_summary(pair.ceiling_runs), "", "", ""]
        )
    print_table(
        f"Each endpoint beside its raw ceiling: medians of {options.rounds} interleaved rounds of "
        f"{options.duration:g} s, wrk -t1 -c{options.connections}, one uvicorn worker per server "
        "(latencies in ms; CPU: 100% = one core)",
        headers,
        rows,
    )


async def measure(pairs: Sequence[Pair], options: Options) -> None:
    for number in range(options.rounds):
        print(f"round {number + 1}/{options.rounds} ({machine_note()})", flush=True)
        for pair in pairs:
            sides: list[tuple[Target, list[tuple[WrkResult, float]]]] = [
                (pair.app, pair.app_runs),
                (pair.ceiling, pair.ceiling_runs),
            ]
            for target, runs in sides if number % 2 == 0 else sides[::-1]:
                runs.append(await target.measure(options))


async def prepare(
    env: dict[str, str], dsn: str, app: Server
) -> tuple[dict[str, str], dict[str, str], str, list[str], dict[str, str]]:
    """The viewer's and the superuser's bearer headers, the viewer's id, order bodies, the
    template stand-in's bearer header."""
    viewer = await register_viewer(app.url)
    await seed_posts(dsn.replace("+asyncpg", "", 1), viewer.user_id)
    superuser = await promoted_superuser(app.url, dsn)
    settings = Settings.model_validate(env)
    client = mongo.create_client(settings)
    try:
        products, _ = await seed_shop(mongo.database(client, settings.MONGODB_DB), ORDERS)
    finally:
        await client.close()
    orders = [
        json.dumps({"items": [{"product_id": str(p["_id"]), "quantity": 1}]}) for p in products
    ]
    return (
        {"Authorization": f"Bearer {viewer.access_token}"},
        {"Authorization": f"Bearer {superuser}"},
        str(viewer.user_id),
        orders,
        {"Authorization": f"Bearer {template_me.token(settings)}"},
    )


def template_pair(
    app: Server, template: Server, viewer: dict[str, str], template_user: dict[str, str]
) -> Pair:
    """/auth/me beside full-stack-fastapi-template's /users/me (its stand-in), same PostgreSQL."""
    return Pair(
        f"GET {API}/auth/me",
        "full-stack-fastapi-template GET /users/me (bench.template_me)",
        ">= 3x",
        Target(app, f"{API}/auth/me", viewer),
        Target(template, f"{template_me.API_V1_STR}/users/me", template_user),
    )


def template_server(env: dict[str, str]) -> AbstractAsyncContextManager[Server]:
    """`bench.template_me` on one uvicorn worker, ready once its health check answers."""
    return uvicorn_server("bench.template_me:app", env, template_me.HEALTH_CHECK)


def build_pairs(
    app: Server,
    ceilings: Server,
    bare: Server,
    template: Server,
    prepared: tuple[dict[str, str], dict[str, str], str, list[str], dict[str, str]],
) -> list[Pair]:
    viewer, superuser, viewer_id, orders, template_user = prepared
    event = (json.dumps({"event_type": "bench.api", "metadata": METADATA}),)
    return [
        Pair(
            "GET /health/liveness",
            "bare FastAPI, one route",
            ">= 0.95x",
            Target(app, "/health/liveness"),
            Target(bare, "/health/liveness"),
        ),
        Pair(
            "GET /health/liveness",
            "bare Starlette",
            "(for scale)",
            Target(app, "/health/liveness"),
            Target(ceilings, "/health/liveness"),
        ),
        Pair(
            f"GET {API}/auth/me",
            'raw "me": Starlette + pyjwt + one asyncpg fetchrow',
            ">= 0.5x",
            Target(app, f"{API}/auth/me", viewer),
            Target(ceilings, "/me", viewer),
        ),
        template_pair(app, template, viewer, template_user),
        Pair(
            f"GET {API}/posts?limit={PAGE}",
            "raw posts page: Starlette + one asyncpg query",
            ">= 0.6x",
            Target(app, f"{API}/posts?limit={PAGE}", viewer),
            Target(ceilings, f"/posts?limit={PAGE}&viewer={viewer_id}"),
        ),
        Pair(
            f"POST {API}/logs/",
            "raw cassandra-driver insert",
            "(issue: 0.06x)",
            Target(app, f"{API}/logs/", superuser, "POST", event),
            Target(ceilings, "/logs", {}, "POST", event),
        ),
        Pair(
            f"POST {API}/orders/",
            "raw PyMongo: guarded update + insert in a transaction",
            "",
            Target(app, f"{API}/orders/", superuser, "POST", tuple(orders)),
            Target(ceilings, "/orders", {}, "POST", tuple(orders)),
        ),
        Pair(
            f"GET {API}/stats/customer/{{name}}",
            "raw PyMongo: the same aggregation",
            "",
            Target(app, f"{API}/stats/customer/{CUSTOMER.replace(' ', '%20')}", superuser),
            Target(ceilings, f"/stats/{CUSTOMER.replace(' ', '%20')}"),
        ),
    ]


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME, BCRYPT_ROUNDS="4")
    print(f"bench.table on {machine_note()} at start", flush=True)
    async with (
        bench_stores(NAME, env) as dsn,
        uvicorn_server("quartet.main:app", env) as app,
        uvicorn_server("bench.ceiling_apps:app", env) as ceilings,
        uvicorn_server("bench.bare_fastapi:app", env) as bare,
        template_server(env) as template,
    ):
        print("seeding posts, likes, products and orders ...", flush=True)
        pairs = build_pairs(app, ceilings, bare, template, await prepare(env, dsn, app))
        await check_answers(pairs)
        await measure(pairs, options)
    report(pairs, options)
    print(
        "\nnotes:\n"
        "- ratio = app / ceiling successful answers per second within the same round (errors:\n"
        "  non-2xx/3xx answers and socket errors, not counted); min-max over the rounds\n"
        "- client CPU is wrk's; all servers and wrk share this machine's cores with other work\n"
        f"- {machine_note()} at the end"
    )
    return 0


async def check_answers(pairs: Sequence[Pair]) -> None:
    """Every target answers 2xx once before anything is measured (a wrong token or body would
    otherwise be measured as a fast error)."""
    probe = Options(duration=1, rounds=1, connections=1)
    for pair in pairs:
        for target in (pair.app, pair.ceiling):
            result, _ = await target.measure(probe)
            if result.errors or not result.requests:
                raise BenchError(f"{target.method} {target.server.url}{target.path} failed")


if __name__ == "__main__":
    sys.exit(run(main))
