"""Issue 4 benchmark: GET /api/v1/auth/me against a raw ceiling, and liveness under bcrypt.

1. Dedicated stores named quartet_bench_auth (database migrated by `quartet db upgrade`,
   keyspace by `quartet schema`, all dropped at the end); one user registered and logged in
   through the API.
2. GET /api/v1/auth/me with its access token on ONE uvicorn worker of the app.
3. The same row served by bench/raw_ceiling.py (Starlette + raw asyncpg) on ONE worker, with the
   same load loop: what the app's layers cost per request.
4. GET /health/liveness polled every 10 ms while concurrent logins run at the default bcrypt
   cost: the hashing thread pool must keep the event loop free (target: p99 under 25 ms).
5. The metrics middleware's cost: wrk on GET /health/liveness and GET /api/v1/auth/me against
   the app with METRICS_ENABLED=true and against a second one with it off, alternated.

Usage: .venv/bin/python -m bench.auth_me [--duration 10] [--concurrency 32] [--wrk-duration 5]
       [--wrk-rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.common import (
    API,
    RESULT_HEADERS,
    BenchError,
    LoadResult,
    Server,
    bench_env,
    bench_stores,
    machine_note,
    ms,
    poll_latency,
    print_table,
    result_row,
    run,
    run_load,
    uvicorn_server,
)
from bench.wrk_runner import WrkResult, run_wrk
from quartet.observability.middleware import MetricsMiddleware
from quartet.settings import Settings

NAME = "quartet_bench_auth"  # its database, Mongo database, keyspace and Redis prefix
DEFAULT_BCRYPT_ROUNDS = int(Settings.model_fields["BCRYPT_ROUNDS"].default)
LIVENESS_TARGET_MS = 25.0
LIVENESS_INTERVAL = 0.010


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrency: int
    login_tasks: int
    wrk_duration: float
    wrk_rounds: int


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    user_id: str
    access_token: str


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.auth_me", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="connections for /auth/me")
    parser.add_argument("--login-tasks", type=int, default=20, help="concurrent logins")
    parser.add_argument(
        "--wrk-duration", type=float, default=5.0, help="seconds per wrk run (metrics cost)"
    )
    parser.add_argument("--wrk-rounds", type=int, default=3, help="wrk runs per app and path")
    args = parser.parse_args()
    if not (
        0 < args.duration <= 300
        and 0 <= args.warmup <= 60
        and 1 <= args.concurrency <= 256
        and 1 <= args.login_tasks <= 256
        and 0 < args.wrk_duration <= 120
        and 1 <= args.wrk_rounds <= 20
    ):
        parser.error(
            "duration in (0, 300], warmup in [0, 60], concurrency and login tasks 1-256, "
            "wrk duration in (0, 120], wrk rounds 1-20"
        )
    return Options(
        args.duration,
        args.warmup,
        args.concurrency,
        args.login_tasks,
        args.wrk_duration,
        args.wrk_rounds,
    )


async def register_and_login(base_url: str) -> Account:
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-7"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        try:
            registered = await http.post(
                f"{API}/auth/register",
                json={"email": email, "password": password, "full_name": "Bench User"},
            )
            registered.raise_for_status()
            login = await http.post(
                f"{API}/auth/login", json={"email": email, "password": password}
            )
            login.raise_for_status()
            token = str(login.json()["access_token"])
            me = await http.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
            me.raise_for_status()
        except httpx.HTTPStatusError as error:
            answer = error.response
            raise BenchError(
                f"{answer.request.url} answered {answer.status_code}: {answer.text[:500]}"
            ) from error
    return Account(email, password, str(registered.json()["id"]), token)


async def liveness_under_logins(
    app: Server, account: Account, options: Options
) -> tuple[LoadResult, LoadResult]:
    """Liveness polls and logins side by side over the same window; returns (polls, logins)."""
    credentials = {"email": account.email, "password": account.password}
    polls, logins = await asyncio.gather(
        poll_latency(
            f"{app.url}/health/liveness",
            interval=LIVENESS_INTERVAL,
            warmup=options.warmup,
            duration=options.duration,
            watch=app,
        ),
        run_load(
            f"{app.url}{API}/auth/login",
            method="POST",
            json=credentials,
            concurrency=options.login_tasks,
            warmup=options.warmup,
            duration=options.duration,
            watch=app,
        ),
    )
    return polls, logins


IN_PROCESS_CALLS = 50_000


async def middleware_in_process_us() -> float:
    """Microseconds the metrics middleware adds to one request, timed in this process around
    a trivial ASGI app (no socket, no other work: the middleware alone)."""
    route = APIRoute("/api/v1/posts/{post_id}", endpoint=lambda: None)
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    start: Message = {"type": "http.response.start", "status": 200, "headers": []}
    body: Message = {"type": "http.response.body", "body": b""}

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        await send(start)
        await send(body)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    async def timed(app: ASGIApp) -> float:
        began = time.perf_counter()
        for _ in range(IN_PROCESS_CALLS):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - began) / IN_PROCESS_CALLS

    bare, wrapped = endpoint, MetricsMiddleware(endpoint)
    await timed(wrapped)  # warm: label children made, code paths hot
    return (
        min([await timed(wrapped) for _ in range(3)]) - min([await timed(bare) for _ in range(3)])
    ) * 1e6


async def metrics_cost(
    with_metrics: Server, without: Server, token: str, options: Options
) -> list[list[str]]:
    """wrk against both apps, alternated (on, off, on, off) so drift on a shared machine hits
    both; one table row per run and the mean per endpoint."""
    rows = []
    for label, path, headers in (
        ("GET /health/liveness", "/health/liveness", {}),
        ("GET /api/v1/auth/me", f"{API}/auth/me", {"Authorization": f"Bearer {token}"}),
    ):
        runs: dict[bool, list[WrkResult]] = {True: [], False: []}
        for _ in range(options.wrk_rounds):
            for enabled, server in ((True, with_metrics), (False, without)):
                result = await run_wrk(
                    server.url + path,
                    duration=options.wrk_duration,
                    connections=options.concurrency,
                    headers=headers,
                )
                runs[enabled].append(result)
                rows.append(_wrk_row(f"{label}, metrics {'on' if enabled else 'off'}", result))
        on = sum(r.per_second for r in runs[True]) / options.wrk_rounds
        off = sum(r.per_second for r in runs[False]) / options.wrk_rounds
        cost_us = (1e6 / on - 1e6 / off) if on and off else float("nan")
        rows.append(
            [
                f"{label}: mean on / off",
                f"{on:.0f} / {off:.0f}",
                f"{100 * (on - off) / off:+.1f}%",
                f"{cost_us:+.0f} us/request",
                "",
                "",
            ]
        )
    return rows


def _wrk_row(scenario: str, result: WrkResult) -> list[str]:
    return [
        scenario,
        f"{result.per_second:.0f}",
        "",
        "",
        f"{ms(result.p50_ms)} / {ms(result.p99_ms)}",
        str(result.errors),
    ]


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME, BCRYPT_ROUNDS=str(DEFAULT_BCRYPT_ROUNDS))
    print(f"bench.auth_me on {machine_note()} at start")
    print(
        f"one uvicorn worker per server (uvloop, httptools, access log off); "
        f"{options.concurrency} connections; {options.warmup:g} s warm-up, "
        f"then {options.duration:g} s measured"
    )
    load = partial(
        run_load,
        concurrency=options.concurrency,
        warmup=options.warmup,
        duration=options.duration,
    )
    async with (
        bench_stores(NAME, env),
        uvicorn_server("quartet.main:app", env) as app,
        uvicorn_server("quartet.main:app", {**env, "METRICS_ENABLED": "false"}) as bare_app,
        uvicorn_server("bench.raw_ceiling:app", env) as ceiling,
    ):
        account = await register_and_login(app.url)
        print("app: GET /api/v1/auth/me ...", flush=True)
        bearer = {"Authorization": f"Bearer {account.access_token}"}
        me = await load(f"{app.url}{API}/auth/me", headers=bearer, watch=app)
        print("raw ceiling: GET /users/{id} ...", flush=True)
        raw = await load(f"{ceiling.url}/users/{account.user_id}", watch=ceiling)
        print("raw ceiling: GET /health/liveness (HTTP only) ...", flush=True)
        bare = await load(f"{ceiling.url}/health/liveness", watch=ceiling)
        print("app: GET /health/liveness, idle ...", flush=True)
        idle = await poll_latency(
            f"{app.url}/health/liveness",
            interval=LIVENESS_INTERVAL,
            warmup=1.0,
            duration=min(options.duration, 5.0),
            watch=app,
        )
        print("metrics middleware cost: wrk, metrics on and off, alternated ...", flush=True)
        cost = await metrics_cost(app, bare_app, account.access_token, options)
        # Last: logins still queued for bcrypt when the window closes keep the CPU busy.
        print(f"app: liveness during {options.login_tasks} concurrent logins ...", flush=True)
        busy, logins = await liveness_under_logins(app, account, options)

    share = f"{100 * me.per_second / raw.per_second:.0f}%" if raw.per_second else ""
    print_table(
        "Results (latencies in ms; CPU: 100% = one core, client = this load generator)",
        RESULT_HEADERS,
        [
            result_row("GET /api/v1/auth/me (app)", me, share),
            result_row("ceiling: Starlette + raw asyncpg, same row", raw, "ceiling"),
            result_row("ceiling app, GET /health/liveness (no DB)", bare),
            result_row("app GET /health/liveness, idle, every 10 ms", idle),
            result_row(f"app GET /health/liveness during {options.login_tasks} logins", busy),
            result_row(f"POST /api/v1/auth/login, bcrypt cost {DEFAULT_BCRYPT_ROUNDS}", logins),
        ],
    )
    in_process = await middleware_in_process_us()
    cost.append(
        ["the middleware alone, in process", "", "", f"{in_process:+.1f} us/request", "", ""]
    )
    print_table(
        f"Metrics middleware cost (wrk, 1 thread, {options.concurrency} connections, "
        f"{options.wrk_duration:g} s per run; latencies in ms)",
        ("scenario", "req/s", "change", "cost", "p50 / p99", "errors"),
        cost,
    )
    verdict = "met" if busy.latency.p99_ms < LIVENESS_TARGET_MS else "MISSED"
    print(
        f"\nliveness p99 during {options.login_tasks} concurrent logins: "
        f"{ms(busy.latency.p99_ms)} ms against the {LIVENESS_TARGET_MS:g} ms target: {verdict}"
    )
    print(
        "\nnotes:\n"
        "- the load generator (httpx on uvloop, this process) runs on the same machine and\n"
        "  takes CPU from the servers: these are figures to compare within one run, not\n"
        "  capacity; a client CPU near 100% means the client, not the server, set the pace\n"
        "- each /auth/me also runs the Redis rate limiter and the revocation MGET, a JWT check\n"
        "  and an ORM session; the ceiling runs one asyncpg query\n"
        f"- {machine_note()} at the end: other work on the machine moves every figure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
