"""Contract test fixtures: the pinned npm tools of the TypeScript client test (installed once
per machine), and for schemathesis a live uvicorn of the app, its schema and real accounts."""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet.local_ports import CONTRACT_TEST_PORTS
from quartet.rbac.seed import seed_rbac
from quartet.schema import apply_cassandra_schema
from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import sign_up_superuser
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import PG_SERVER, TEST_DB, _admin, run_cli
from tests.contract.callers import Callers, secret_password
from tests.servers import Server, first_free_port, uvicorn_server

TS_DIR = Path(__file__).parent / "ts"
NPM_TIMEOUT_S = 600

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Bounded for CI: a handful of generated cases per operation and phase, a fixed seed so a run
# is repeatable, and only the four checks above.
SCHEMATHESIS_CONFIG: dict[str, Any] = {
    "seed": 20261201,
    "generation": {"mode": "all", "max-examples": 10, "database": "none"},
    # Probing methods a path does not serve only feeds the `unsupported_method` check, not run.
    "phases": {"coverage": {"unexpected-methods": []}},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    "suppress-health-check": ["all"],
    "request-timeout": 30,
    # Two operations whose documented answer is a 5xx: not a server error there.
    "operations": [
        {  # 502 fetch_failed: the URL to copy from could not be fetched
            "include-name": "POST /api/v1/upload/media",
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 502]}},
        },
        {  # raises on purpose, for error tracking
            "include-name": "GET /health/test-sentry",
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 500]}},
        },
    ],
}
# Stateful runs: scenarios (each as a superuser of its own) and the steps in each.
STATEFUL_SCENARIOS = 20
STATEFUL_STEPS = 12
# The upload-by-URL cases name hosts that do not resolve here, or do not answer: fail fast.
LIVE_SETTINGS = {"MEDIA_FETCH_TIMEOUT_SECONDS": "3"}


def _installed(node_modules: Path) -> bool:
    """npm's own record of the tree it installed is at least as new as the lock file."""
    record = node_modules / ".package-lock.json"
    lock = TS_DIR / "package-lock.json"
    return record.exists() and record.stat().st_mtime >= lock.stat().st_mtime


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/contract/ts/node_modules from package-lock.json (`npm ci`), when missing or older
    than the lock; a file lock keeps concurrent test runs from installing over each other."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the TypeScript client test needs Node.js and npm on PATH")
    installed = TS_DIR / "node_modules"
    with (TS_DIR / "package-lock.json").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(installed):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=TS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return installed


@pytest.fixture(scope="package")
async def contract_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The stores of the server under test, as an app of the test process: a PostgreSQL
    database, a Cassandra keyspace, a Mongo database and a Redis prefix of its own (migrated,
    schemas applied, RBAC seeded), because generated requests change groups' grants, other
    users, old events and products, which the run's other tests rely on."""
    name = f"{TEST_DB}_contract"
    url = f"postgresql+asyncpg://{PG_SERVER}/{name}"
    await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    try:
        migrated = await asyncio.to_thread(run_cli, "db", "upgrade", env={"DATABASE_URL": url})
        assert migrated.returncode == 0, f"{migrated.stdout}{migrated.stderr}"
        async with dedicated_app(
            DATABASE_URL=url, CASSANDRA_KEYSPACE=name, MONGODB_DB=name
        ) as contract:
            settings: Settings = contract.state.settings
            stores: Stores = contract.state.stores
            await apply_cassandra_schema(stores.cassandra)
            await stores.transactions.run(lambda session: seed_rbac(session, settings))
            try:
                yield contract
            finally:
                await stores.mongo_client.drop_database(name)
                await stores.cassandra.drop_keyspace()
    finally:
        await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.fixture(scope="package")
def live_api(contract_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A uvicorn of the app over `contract_app`'s stores."""
    settings: Settings = contract_app.state.settings
    log = tmp_path_factory.mktemp("contract") / "uvicorn.log"
    with uvicorn_server(
        first_free_port(CONTRACT_TEST_PORTS, "the app under test"),
        log,
        DATABASE_URL=settings.DATABASE_URL,
        CASSANDRA_KEYSPACE=settings.CASSANDRA_KEYSPACE,
        MONGODB_DB=settings.MONGODB_DB,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
        **LIVE_SETTINGS,
    ) as server:
        yield server


@pytest.fixture(scope="package")
def callers(live_api: Server, contract_app: FastAPI) -> Iterator[Callers]:
    with httpx.Client(base_url=live_api.base_url, timeout=30) as http:
        yield Callers(http, contract_app.state.settings.API_V1_STR)


async def _new_superuser(contract_app: FastAPI) -> dict[str, str]:
    """A superuser promoted in the stores, with a password in no schema example."""
    async with http_for(contract_app) as http:
        account = await sign_up_superuser(
            http,
            contract_app.state.settings.API_V1_STR,
            contract_app.state.stores,
            password=secret_password(),
        )
    return account.headers


@pytest.fixture
async def superuser_headers(contract_app: FastAPI) -> dict[str, str]:
    """A new superuser for each test: what one operation's cases do to it stays there."""
    return await _new_superuser(contract_app)


@pytest.fixture
async def scenario_superusers(contract_app: FastAPI) -> list[dict[str, str]]:
    """A new superuser for each stateful scenario."""
    return [await _new_superuser(contract_app) for _ in range(STATEFUL_SCENARIOS)]
