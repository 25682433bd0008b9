"""Issue 8 benchmark: POST /api/v1/logs/ per second against raw cassandra-driver inserts into the
same table, measured in the same run.

1. Stores of its own (bench.common.bench_stores: database quartet_bench_events migrated by
   `quartet db upgrade`, keyspace quartet_bench_events applied by `quartet schema`, all dropped
   at the end); ONE uvicorn worker of the app; one user registered through the API, made
   superuser in the database, logged in.
2. POST /api/v1/logs/ with its access token: N keep-alive connections, each sending one request
   after another, for a fixed window after a warm-up. Afterwards the rows are counted in
   Cassandra: every 201 must be a stored event. For scale, GET /api/v1/auth/me on the same app
   (the same middleware, token check and rate limit, no Cassandra) under the same load.
3. Raw cassandra-driver in this process, no HTTP and no app: a prepared INSERT into
   events_by_type through `execute_async`, N requests in flight, same window; then the very
   logged batch the app writes per event (three event tables and the partition index), raw.

The load generator shares the machine (and its CPUs) with the server and Cassandra, so the
figures compare scenarios of one run, not capacities.

Usage: .venv/bin/python bench/events.py [--duration 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement

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
from quartet.core.clock import to_millis
from quartet.events.repository import (
    DAY_BUCKET,
    INSERT_BY_ID,
    INSERT_BY_TYPE,
    INSERT_BY_USER,
    INSERT_DAY,
    INSERT_PARTITION,
    TYPE,
    USER,
)
from quartet.settings import Settings

NAME = "quartet_bench_events"
CASSANDRA_PORT = int(Settings.model_fields["CASSANDRA_PORT"].default)
CONSISTENCY = str(Settings.model_fields["CASSANDRA_CONSISTENCY"].default)
METADATA = '{"order_id": "5f0c", "total": "42.50", "items": 3}'


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrency: int


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench/events.py", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args()
    return Options(args.duration, args.warmup, args.concurrency)


async def superuser_token(base_url: str, dsn: str) -> str:
    """Register through the API, promote in the database, log in: a superuser's access token."""
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-7"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        registered = await http.post(
            f"{API}/auth/register", json={"email": email, "password": password}
        )
        registered.raise_for_status()
        conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute("UPDATE users SET is_superuser = true WHERE email = $1", email)
        finally:
            await conn.close()
        login = await http.post(f"{API}/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        return str(login.json()["access_token"])


# -- raw driver ------------------------------------------------------------------------------


def driver_session() -> tuple[Cluster, Session]:
    """A plain driver session at the app's default consistency (no app code involved)."""
    profile = ExecutionProfile(consistency_level=ConsistencyLevel.name_to_value[CONSISTENCY])
    cluster = Cluster(
        ["127.0.0.1"],
        port=CASSANDRA_PORT,
        protocol_version=5,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )
    return cluster, cluster.connect()


def driver_load(
    session: Session,
    make_statement: Callable[[], Any],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
) -> LoadResult:
    """`concurrency` chains of `execute_async`, each starting its next request from the
    previous one's callback (the driver's own I/O thread), until the window closes."""
    lock = threading.Lock()
    finished = threading.Event()
    opens = time.perf_counter() + warmup
    closes = opens + duration
    samples: list[float] = []
    errors = 0
    chains = concurrency

    def launch() -> None:
        began = time.perf_counter()
        future = session.execute_async(make_statement())
        future.add_callbacks(done, done, callback_args=(began, True), errback_args=(began, False))

    def done(_: Any, began: float, ok: bool) -> None:
        nonlocal errors, chains
        now = time.perf_counter()
        with lock:
            if opens <= now < closes:
                if ok:
                    samples.append(now - began)
                else:
                    errors += 1
            if now >= closes:
                chains -= 1
                if chains == 0:
                    finished.set()
                return
        launch()

    for _ in range(concurrency):
        launch()
    time.sleep(max(0.0, opens - time.perf_counter()))
    cpu0 = time.process_time()
    time.sleep(max(0.0, closes - time.perf_counter()))
    cpu1 = time.process_time()
    if not finished.wait(60):
        raise BenchError("raw driver load did not finish")
    return LoadResult(
        requests=len(samples) + errors,
        errors=errors,
        seconds=duration,
        latency=summarise(samples),
        client_cpu=100 * (cpu1 - cpu0) / duration,
        server_cpu=None,
    )


def raw_single_inserts(session: Session, options: Options) -> LoadResult:
    statement: PreparedStatement = session.prepare(INSERT_BY_TYPE.replace("{ks}", NAME))
    day = datetime.now(UTC).date()

    def insert() -> Any:
        now = to_millis(datetime.now(UTC))
        return statement.bind(("bench.raw", day, now, uuid.uuid4(), "raw", METADATA, 0))

    return driver_load(
        session,
        insert,
        concurrency=options.concurrency,
        warmup=options.warmup,
        duration=options.duration,
    )


def raw_event_batches(session: Session, options: Options) -> LoadResult:
    """The app's write per event (quartet.events.repository.EventRepository.insert), raw."""
    prepared = {
        template: session.prepare(template.replace("{ks}", NAME))
        for template in (INSERT_BY_ID, INSERT_BY_TYPE, INSERT_BY_USER, INSERT_PARTITION, INSERT_DAY)
    }

    def batch() -> BatchStatement:
        now = to_millis(datetime.now(UTC))
        day, event_id, kind, user = now.date(), uuid.uuid4(), "bench.batch", "raw"
        statement = BatchStatement(batch_type=BatchType.LOGGED)
        rows: Sequence[tuple[str, tuple[Any, ...]]] = [
            (INSERT_BY_ID, (event_id, user, kind, now, METADATA, 0)),
            (INSERT_BY_TYPE, (kind, day, now, event_id, user, METADATA, 0)),
            (INSERT_BY_USER, (user, day, now, event_id, kind, METADATA, 0)),
            (INSERT_PARTITION, (day, TYPE, kind, 0)),
            (INSERT_PARTITION, (day, USER, user, 0)),
            (INSERT_DAY, (DAY_BUCKET, day, 0)),
        ]
        for template, params in rows:
            statement.add(prepared[template], params)
        return statement

    return driver_load(
        session,
        batch,
        concurrency=options.concurrency,
        warmup=options.warmup,
        duration=options.duration,
    )


def stored_events(session: Session, event_type: str, since: datetime) -> int:
    """Rows of `event_type` in events_by_type from `since` until now."""
    query = session.prepare(
        f"SELECT count(*) AS n FROM {NAME}.events_by_type WHERE event_type = ? AND day = ?"  # noqa: S608 - constant keyspace
    )
    total, day = 0, since.date()
    while day <= datetime.now(UTC).date():
        total += int(session.execute(query, (event_type, day)).one()[0])
        day += timedelta(days=1)
    return total


# -- the run -----------------------------------------------------------------------------------


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME, BCRYPT_ROUNDS="4")
    print(f"bench/events.py: {machine_note()} at start")
    print(
        f"one uvicorn worker (uvloop, httptools, access log off); {options.concurrency} in "
        f"flight; {options.warmup:g} s warm-up then {options.duration:g} s measured; "
        f"consistency {CONSISTENCY} on one local Cassandra node"
    )
    started = datetime.now(UTC) - timedelta(minutes=1)
    async with bench_stores(NAME, env) as dsn:
        cluster, session = await asyncio.to_thread(driver_session)
        try:
            async with uvicorn_server("quartet.main:app", env) as server:
                token = await superuser_token(server.url, dsn)
                print("app: POST /api/v1/logs/ ...", flush=True)
                api = await run_load(
                    f"{server.url}{API}/logs/",
                    method="POST",
                    json={"event_type": "bench.api", "metadata": METADATA},
                    headers={"Authorization": f"Bearer {token}"},
                    expect=201,
                    concurrency=options.concurrency,
                    warmup=options.warmup,
                    duration=options.duration,
                    watch=server,
                )
                print("app: GET /api/v1/auth/me (same stack, no Cassandra) ...", flush=True)
                me = await run_load(
                    f"{server.url}{API}/auth/me",
                    headers={"Authorization": f"Bearer {token}"},
                    concurrency=options.concurrency,
                    warmup=options.warmup,
                    duration=options.duration,
                    watch=server,
                )
            stored = await asyncio.to_thread(stored_events, session, "bench.api", started)
            print("raw driver: INSERT INTO events_by_type ...", flush=True)
            single = await asyncio.to_thread(raw_single_inserts, session, options)
            print("raw driver: the app's logged batch per event ...", flush=True)
            batches = await asyncio.to_thread(raw_event_batches, session, options)
        finally:
            await asyncio.to_thread(cluster.shutdown)

    def share(result: LoadResult) -> str:
        return f"{100 * result.per_second / single.per_second:.0f}%"

    print_table(
        "Results (latencies in ms)",
        [*RESULT_HEADERS[:2], "vs raw insert", *RESULT_HEADERS[3:]],
        [
            result_row("POST /api/v1/logs/ (app, one worker)", api, share(api)),
            result_row("GET /api/v1/auth/me (same app, for scale)", me, share(me)),
            result_row("raw execute_async: INSERT events_by_type", single, "100%"),
            result_row("raw execute_async: the app's logged batch", batches, share(batches)),
        ],
    )
    print(
        f"\nevents stored by the app run: {stored} rows in events_by_type "
        f"(>= {api.requests - api.errors} answered 201 inside the window, plus warm-up)"
    )
    print(f"bench/events.py: {machine_note()} at end")
    if api.errors or stored < api.requests - api.errors:
        print("FAILED: errors, or fewer rows stored than events acknowledged", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
