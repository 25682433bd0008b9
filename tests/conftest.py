"""Fixtures over the real local stores (started by `make services-up`), isolated per run/test.

- PostgreSQL: database `quartet_test`, reset to the migration head (and the RBAC seed: the
  declared permissions and the system groups' grants) once per run; each test that
  asks for `db` runs inside an outer transaction that is rolled back (app sessions join it
  through savepoints).
- MongoDB: a database per run; Cassandra: a keyspace per run; Redis: a key prefix per run,
  cleared after each test. All dropped at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from quartet import local_ports
from quartet.main import create_app
from quartet.rbac.seed import seed_rbac
from quartet.schema import apply_cassandra_schema
from quartet.settings import Settings
from quartet.stores.registry import STORE_NAMES, Stores
from tests.accounts import SignedIn, sign_up, sign_up_superuser
from tests.clients import http_for

ROOT = Path(__file__).resolve().parent.parent
# One run's data never meets another's: concurrent runs each get their own database, Mongo
# database, Cassandra keyspace and Redis prefix. The time prefix lets a later run drop leftovers.
RUN_ID = f"{int(time.time())}_{secrets.token_hex(3)}"
STALE_AFTER_SECONDS = 6 * 3600
PG_SERVER = local_ports.PG_SERVER
TEST_DB = f"quartet_test_{RUN_ID}"
TEST_DATABASE_URL = f"postgresql+asyncpg://{PG_SERVER}/{TEST_DB}"
CASSANDRA_RING_FLAG = "QUARTET_TEST_CASSANDRA_RING"


def test_env() -> dict[str, str]:
    """Environment for the app under test (also handed to CLI and uvicorn subprocesses)."""
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": TEST_DATABASE_URL,
        "MONGODB_DB": f"quartet_test_{RUN_ID}",
        "CASSANDRA_KEYSPACE": f"quartet_test_{RUN_ID}",
        "REDIS_KEY_PREFIX": f"test:{RUN_ID}:",
        "MEDIA_ROOT": str(Path(tempfile.gettempdir()) / f"quartet-test-media-{RUN_ID}"),
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "CASSANDRA_CONSISTENCY": "ONE",
        "BCRYPT_ROUNDS": "4",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
        "ERASURE_WORKER_ENABLED": "false",  # tests/erasure drive the worker's passes themselves
        **(REDIS_CLUSTER_ENV if REDIS_CLUSTER else {}),
        # `make test-cluster`: the same suites on the local three-node ring (RF 3, LOCAL_QUORUM)
        **(local_ports.cassandra_ring_settings() if os.environ.get(CASSANDRA_RING_FLAG) else {}),
    }


# QUARTET_TEST_REDIS_CLUSTER=1: every app under test uses the local Redis Cluster
# (scripts/redis_cluster.py up), revocations confirmed by a replica; and the `cluster` drills run.
REDIS_CLUSTER = os.environ.get("QUARTET_TEST_REDIS_CLUSTER") == "1"
REDIS_CLUSTER_ENV = {
    "REDIS_CLUSTER_NODES": ",".join(
        f"{local_ports.HOST}:{port}" for port in local_ports.REDIS_CLUSTER_PORTS
    ),
    "REDIS_REVOCATION_REPLICAS": "1",
}


def make_settings(**overrides: object) -> Settings:
    # Raw values (strings from the environment, or overrides of any type): pydantic validates
    # and coerces them, so they go in as Any.
    values: dict[str, Any] = {**test_env(), **overrides}
    if "REDIS_URL" in overrides:  # a test's own (dead or proxied) Redis, even on a cluster run
        for name in REDIS_CLUSTER_ENV:
            values.pop(name, None)
    return Settings(_env_file=None, **values)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quartet.cli", *args],
        env={**os.environ, **test_env(), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that stop and restart the local services run last (the `cluster` drills are
    deselected by tests/cluster/conftest.py unless `-m cluster` asks for them)."""
    items.sort(key=lambda item: item.get_closest_marker("restarts_services") is not None)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


async def _admin(statements: list[str]) -> list[str]:
    """Run maintenance statements on the server's `postgres` database; returns test DB names."""
    conn = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres", timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'quartet_test_%'"
        )
        return [r["datname"] for r in rows]
    finally:
        await conn.close()


def _stale(name: str) -> bool:
    stamp = name.removeprefix("quartet_test_").split("_")[0]
    return stamp.isdigit() and int(stamp) < time.time() - STALE_AFTER_SECONDS


@pytest.fixture(scope="session")
def _migrated() -> Iterator[None]:
    """A fresh database for this run, migrated to head by the real CLI, dropped at the end."""
    try:
        existing = asyncio.run(_admin([]))
    except OSError as error:
        pytest.exit(
            f"PostgreSQL at {PG_SERVER} did not answer ({error}); start the local stores with "
            "`make services-up` (or run `make test`, which does).",
            returncode=1,
        )
    stale = [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in existing if _stale(db)]
    asyncio.run(_admin([*stale, f'CREATE DATABASE "{TEST_DB}"']))
    result = run_cli("db", "upgrade")
    if result.returncode != 0:
        pytest.exit(f"could not migrate the test database:\n{result.stdout}{result.stderr}", 1)
    yield
    asyncio.run(_admin([f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)']))


@pytest.fixture(scope="session")
async def app(settings: Settings, _migrated: None) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    stores: Stores = application.state.stores
    failed = []
    for name in STORE_NAMES:
        try:
            await stores.ping(name)
        except Exception as error:
            failed.append(f"{name} ({type(error).__name__}: {error})")
    if failed:
        await stores.close()
        pytest.exit(
            "the tests need the four real local stores, and these did not answer: "
            + "; ".join(failed)
            + "\nstart them with `make services-up` (or run `make test`, which does).",
            returncode=1,
        )
    async with application.router.lifespan_context(application):
        await apply_cassandra_schema(stores.cassandra)
        await stores.transactions.run(lambda session: seed_rbac(session, settings))
        yield application
        # The last tests may have restarted the stores: give each client time to reconnect.
        await _eventually(lambda: stores.mongo_client.drop_database(settings.MONGODB_DB))
        await _eventually(stores.cassandra.drop_keyspace)
        await _eventually(lambda: _clear_redis(stores, settings))
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


async def _eventually(action: Callable[[], Awaitable[object]], seconds: float = 60.0) -> None:
    """Run a clean-up step, retrying while its store is still coming back."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await action()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)


async def _clear_redis(stores: Stores, settings: Settings) -> None:
    keys = [k async for k in stores.redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*")]
    if keys:
        await stores.redis.unlink(*keys)


@pytest.fixture
def stores(app: FastAPI) -> Stores:
    result: Stores = app.state.stores
    return result


@pytest.fixture(autouse=True)
async def _redis_isolation(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Rate-limit, lockout and session keys never leak from one test into the next."""
    yield
    if "app" in request.fixturenames:
        app: FastAPI = request.getfixturevalue("app")
        await _clear_redis(app.state.stores, app.state.settings)


@pytest.fixture
async def db(stores: Stores) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction rolled back after the test; the app's own
    sessions (request units of work) join it through savepoints, so commits are undone too."""
    original = stores.sessionmaker
    async with stores.engine.connect() as connection:
        outer = await connection.begin()
        factory = _bound_sessionmaker(connection)
        stores.sessionmaker = factory
        try:
            async with factory() as session:
                yield session
        finally:
            stores.sessionmaker = original
            await outer.rollback()


def _bound_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def client(app: FastAPI, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client whose PostgreSQL writes are rolled back after the test."""
    async with http_for(app) as http:
        yield http


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client whose writes really commit (for concurrency tests): use unique data."""
    async with http_for(app) as http:
        yield http


@pytest.fixture
async def user(client: httpx.AsyncClient, api: str) -> SignedIn:
    """A new account, logged in through the rolled-back `client`."""
    return await sign_up(client, api)


@pytest.fixture
async def other(client: httpx.AsyncClient, api: str) -> SignedIn:
    """A second new account, like `user`."""
    return await sign_up(client, api)


@pytest.fixture
async def superuser(client: httpx.AsyncClient, api: str, stores: Stores) -> SignedIn:
    """A new account promoted to superuser (rolled back with `db`) before it logged in."""
    return await sign_up_superuser(client, api, stores)


@pytest.fixture
def api(settings: Settings) -> str:
    """The versioned API prefix, e.g. `/api/v1`."""
    return settings.API_V1_STR


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
