"""Shared pieces of every benchmark: dedicated stores set up by the real CLI, a uvicorn
subprocess on a free loopback port, a bounded concurrent load loop, a paced latency probe and a
result table.

The load generator runs on the same machine as the server and competes with it for CPU, so the
figures are for comparing scenarios measured in the same run, not for capacity planning.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from redis.asyncio import Redis

from quartet import local_ports
from quartet.settings import Settings
from quartet.stores.registry import Stores

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
HOST = "127.0.0.1"
PG_SERVER = local_ports.PG_SERVER
REDIS_URL = os.environ.get("REDIS_URL", str(Settings.model_fields["REDIS_URL"].default))
API = str(Settings.model_fields["API_V1_STR"].default)
SUPERUSER = str(Settings.model_fields["FIRST_SUPERUSER_EMAIL"].default)
HUGE_RATE_LIMIT = "1000000"  # per minute
CLI_TIMEOUT = 300.0
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")  # valid as database, Mongo db and keyspace


class BenchError(RuntimeError):
    """A benchmark could not be set up (store down, migration failed, server did not start)."""


# -- stores ----------------------------------------------------------------------------------


def database_url(name: str) -> str:
    """The app's `DATABASE_URL` for database `name` on the local server."""
    return f"postgresql+asyncpg://{PG_SERVER}/{name}"


def bench_env(name: str, **overrides: str) -> dict[str, str]:
    """Settings for one benchmark run's app: database, Mongo database and Cassandra keyspace
    all named `name`, a Redis prefix of its own, quiet logs, and rate limits so high that they
    never refuse (the limiter still runs on every request)."""
    _check_name(name)
    return {
        "ENVIRONMENT": "dev",
        "DATABASE_URL": database_url(name),
        "MONGODB_DB": name,
        "CASSANDRA_KEYSPACE": name,
        "REDIS_KEY_PREFIX": f"{name}:{os.getpid()}:",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": HUGE_RATE_LIMIT,
        "AUTH_RATE_LIMIT_PER_MINUTE": HUGE_RATE_LIMIT,
        **overrides,
    }


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise BenchError(f"unsafe store name {name!r}")


async def _admin(*statements: str) -> None:
    try:
        conn = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres", timeout=5)
    except OSError as error:
        raise BenchError(
            f"PostgreSQL at {PG_SERVER} did not answer ({error}); run `make services-up`"
        ) from error
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def quartet_cli(env: Mapping[str, str], *args: str) -> None:
    """Run the real `quartet` command with the benchmark's settings."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "quartet"),
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    command = " ".join(("quartet", *args))
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=CLI_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchError(f"`{command}` took longer than {CLI_TIMEOUT:.0f}s") from None
    if process.returncode != 0:
        raise BenchError(f"`{command}` failed:\n{output.decode(errors='replace')}")


@asynccontextmanager
async def migrated_database(name: str, env: Mapping[str, str]) -> AsyncIterator[str]:
    """A fresh database `name` (leftovers dropped), migrated to head by `quartet db upgrade`
    exactly as a deployment would be, and dropped afterwards. Yields its `DATABASE_URL`."""
    _check_name(name)
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    url = database_url(name)
    await _admin(drop, f'CREATE DATABASE "{name}"')
    try:
        await quartet_cli({**env, "DATABASE_URL": url}, "db", "upgrade")
        yield url
    finally:
        await _admin(drop)


async def clear_redis_prefix(prefix: str) -> int:
    """Delete the keys a benchmark's app wrote under its own prefix; returns how many."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.unlink(*keys)
        return len(keys)
    finally:
        await client.aclose()


async def _drop_outside_postgres(settings: Settings) -> None:
    """Drop the run's Mongo database, Cassandra keyspace and Redis keys; every step is tried
    even when one fails (a warning says which)."""
    stores = Stores(settings)
    steps: dict[str, Callable[[], Awaitable[object]]] = {
        f"Mongo database {settings.MONGODB_DB}": partial(
            stores.mongo_client.drop_database, settings.MONGODB_DB
        ),
        f"Cassandra keyspace {settings.CASSANDRA_KEYSPACE}": stores.cassandra.drop_keyspace,
        f"Redis keys {settings.REDIS_KEY_PREFIX}*": partial(
            clear_redis_prefix, settings.REDIS_KEY_PREFIX
        ),
    }
    try:
        for what, step in steps.items():
            try:
                await step()
            except Exception as error:
                print(f"warning: could not drop {what}: {error!r}", file=sys.stderr)
    finally:
        await stores.close()


@asynccontextmanager
async def bench_stores(name: str, env: Mapping[str, str]) -> AsyncIterator[str]:
    """All four stores for one run of the whole app: `migrated_database(name)`, then the
    Cassandra keyspace applied by `quartet schema`; afterwards the database, the Mongo
    database, the keyspace and the Redis prefix named in `env` are dropped. Yields the
    `DATABASE_URL`."""
    async with migrated_database(name, env) as url:
        try:
            await quartet_cli(env, "schema")
            yield url
        finally:
            await _drop_outside_postgres(Settings.model_validate({**os.environ, **env}))


# -- uvicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def _wait_ready(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise BenchError(f"uvicorn exited with {process.returncode}:\n{_tail(log)}")
            with suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise BenchError(f"{url} did not answer within {READY_TIMEOUT:.0f}s:\n{_tail(log)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Graceful shutdown of the server we started (by its handle), forced after a grace time."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


@dataclass(frozen=True)
class Server:
    """A running uvicorn: its base URL and process id (one worker serves in that process)."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def uvicorn_server(
    app: str, env: Mapping[str, str], ready_path: str = "/health/liveness"
) -> AsyncIterator[Server]:
    """`app` on ONE uvicorn worker (uvloop, httptools, no access log) on a free loopback port,
    yielded once `ready_path` answers 200. Its output goes to a temporary log, quoted if it
    fails to start or the benchmark fails while it runs."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    fd, name = tempfile.mkstemp(prefix="quartet-bench-", suffix=".log")
    log = Path(name)
    command = [
        str(BIN / "uvicorn"),
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with os.fdopen(fd, "wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=output
        )
    try:
        await _wait_ready(process, base_url + ready_path, log)
        try:
            yield Server(base_url, process.pid)
        except Exception:
            tail = await asyncio.to_thread(_tail, log)
            print(f"{app} server log, last lines:\n{tail}", file=sys.stderr)
            raise
    finally:
        await _stop(process)
        await asyncio.to_thread(log.unlink, missing_ok=True)


# -- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    max_ms: float


def summarise(samples: Sequence[float]) -> Latency:
    """p50, p99 and max in milliseconds of latencies given in seconds."""
    if not samples:
        return Latency(float("nan"), float("nan"), float("nan"))
    if len(samples) == 1:
        only = samples[0] * 1000
        return Latency(only, only, only)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Latency(cuts[49] * 1000, cuts[98] * 1000, max(samples) * 1000)


@dataclass(frozen=True)
class LoadResult:
    """Requests completed inside the measured window, errors among them, the latency of the
    successful ones, and the CPU used meanwhile (100 = one core) by this process (the load
    generator) and by the server, when one was watched."""

    requests: int
    errors: int
    seconds: float
    latency: Latency
    client_cpu: float
    server_cpu: float | None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class _Window:
    """The measured window, opened after the warm-up. Only answers that arrive inside it
    count, so requests longer than the window (queued logins) are measured as finished work."""

    def __init__(self, warmup: float, duration: float) -> None:
        self.warmup = warmup
        self.duration = duration
        self.opens = time.perf_counter() + warmup
        self.closes = self.opens + duration
        self.samples: list[float] = []
        self.errors = 0

    def record(self, began: float, ok: bool) -> None:
        done = time.perf_counter()
        if not self.opens <= done < self.closes:
            return
        if ok:
            self.samples.append(done - began)
        else:
            self.errors += 1

    async def run(
        self, tasks: Sequence[Coroutine[Any, Any, None]], watch: Server | None
    ) -> LoadResult:
        """Run `tasks` (endless loops) through the warm-up and the window, then cancel them."""
        running = [asyncio.create_task(task) for task in tasks]
        try:
            await asyncio.sleep(max(0.0, self.opens - time.perf_counter()))
            client0, server0 = time.process_time(), watch.cpu_seconds() if watch else 0.0
            await asyncio.sleep(max(0.0, self.closes - time.perf_counter()))
            client1, server1 = time.process_time(), watch.cpu_seconds() if watch else 0.0
        finally:
            for task in running:
                task.cancel()
            outcomes = await asyncio.gather(*running, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return LoadResult(
            requests=len(self.samples) + self.errors,
            errors=self.errors,
            seconds=self.duration,
            latency=summarise(self.samples),
            client_cpu=100 * (client1 - client0) / self.duration,
            server_cpu=100 * (server1 - server0) / self.duration if watch else None,
        )


async def run_load(
    url: str,
    *,
    concurrency: int,
    duration: float,
    warmup: float = 0.0,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    expect: int = 200,
    watch: Server | None = None,
) -> LoadResult:
    """`concurrency` keep-alive connections, each sending one request after another until the
    window closes (requests still in flight then are abandoned). Any status other than
    `expect`, or a transport error, is an error. Each connection has its own client: one
    shared httpx pool of 32 connections costs more CPU per request than the servers measured.
    `json` may be a callable, called for each request's body (bodies that vary)."""
    window = _Window(warmup, duration)

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60.0, headers=dict(headers or {})) as http:
            while True:
                body = json() if callable(json) else json
                began = time.perf_counter()
                try:
                    response = await http.request(method, url, json=body)
                    ok = response.status_code == expect
                except httpx.HTTPError:
                    ok = False
                window.record(began, ok)

    return await window.run([worker() for _ in range(concurrency)], watch)


async def poll_latency(
    url: str,
    *,
    interval: float,
    duration: float,
    warmup: float = 0.0,
    expect: int = 200,
    watch: Server | None = None,
) -> LoadResult:
    """One connection sending a request every `interval` seconds (the next one at once if an
    answer came late), as a probe would."""
    window = _Window(warmup, duration)

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=60.0) as http:
            next_at = time.perf_counter()
            while True:
                began = time.perf_counter()
                try:
                    ok = (await http.get(url)).status_code == expect
                except httpx.HTTPError:
                    ok = False
                window.record(began, ok)
                next_at = max(next_at + interval, time.perf_counter())
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    return await window.run([probe()], watch)


# -- output ----------------------------------------------------------------------------------


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts)

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def ms(value: float) -> str:
    return f"{value:.1f}"


RESULT_HEADERS = (
    *("scenario", "req/s", "vs ceiling", "p50", "p99", "max", "requests", "errors"),
    *("client CPU", "server CPU"),
)


def result_row(scenario: str, result: LoadResult, beside: str = "") -> list[str]:
    """One line of a `RESULT_HEADERS` table; `beside` is the comparison column."""
    server_cpu = "" if result.server_cpu is None else f"{result.server_cpu:.0f}%"
    return [
        scenario,
        f"{result.per_second:.1f}",
        beside,
        ms(result.latency.p50_ms),
        ms(result.latency.p99_ms),
        ms(result.latency.max_ms),
        str(result.requests),
        str(result.errors),
        f"{result.client_cpu:.0f}%",
        server_cpu,
    ]


def machine_note() -> str:
    """CPUs and load averages: other work on the machine moves every figure."""
    one, five, fifteen = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, load average {one:.2f} / {five:.2f} / {fifteen:.2f} "
        f"(1 / 5 / 15 min)"
    )


def run(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a benchmark's async `main` on uvloop (a cheaper load generator); setup failures are
    reported in one line with exit status 1."""
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    except BenchError as error:
        print(f"benchmark setup failed: {error}", file=sys.stderr)
        return 1
