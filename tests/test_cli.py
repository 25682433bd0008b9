"""The `quartet` command, run for real as a subprocess against the run's stores.

The independent invocations start together (each is a fresh interpreter of about two seconds)
and the tests then read their results.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from subprocess import CompletedProcess

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI

from quartet.core.ids import uuid7
from quartet.settings import Settings
from tests.conftest import ROOT, run_cli

PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "a-long-random-production-secret-0123456789abcdef",
    "FIRST_SUPERUSER_PASSWORD": "not-the-default-superuser-password-42",
    "BACKEND_CORS_ORIGINS": "https://app.example.com",
}

# A superuser of its own, deleted afterwards, so seeding leaves the run's database as it was.
SEED_EMAIL = f"cli-seed-{uuid7().hex[-10:]}@example.com"

COMMANDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "check": (("check",), {}),
    "current": (("db", "current"), {}),
    "history": (("db", "history"), {}),
    "upgrade": (("db", "upgrade"), {}),
    "schema": (("schema",), {}),
    "seed": (("db", "seed"), {"FIRST_SUPERUSER_EMAIL": SEED_EMAIL}),
    "check_redis_down": (("check",), {"REDIS_URL": "redis://127.0.0.1:1/0"}),
    "check_bad_settings": (("check",), {"ENVIRONMENT": "production"}),
}


@pytest.fixture(scope="module")
def results(app: FastAPI) -> dict[str, CompletedProcess[str]]:
    """`app` guarantees the run's database is migrated and its keyspace exists."""
    with ThreadPoolExecutor(max_workers=len(COMMANDS)) as pool:
        futures = {
            name: pool.submit(run_cli, *args, env=env) for name, (args, env) in COMMANDS.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def head() -> str:
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    revision = script.get_current_head()
    assert revision is not None
    return revision


def _ok(result: CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_check_lists_the_four_stores(results: dict[str, CompletedProcess[str]]) -> None:
    lines = _ok(results["check"]).splitlines()
    stores = {line.split()[0]: line for line in lines if line.strip()}
    assert set(stores) == {"postgres", "redis", "mongodb", "cassandra"}
    assert all(" ok" in line for line in stores.values())
    assert "5.0" in stores["cassandra"]  # the node's release version


def test_check_with_redis_down_says_how_to_start_the_stores(
    results: dict[str, CompletedProcess[str]],
) -> None:
    result = results["check_redis_down"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "UNAVAILABLE" in lines["redis"]
    assert all(" ok" in lines[name] for name in ("postgres", "mongodb", "cassandra"))
    assert "make services-up" in result.stdout


def test_check_refuses_unsafe_production_settings(
    results: dict[str, CompletedProcess[str]],
) -> None:
    result = results["check_bad_settings"]
    assert result.returncode == 2
    assert "invalid settings" in result.stderr
    assert "SECRET_KEY is the development default" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_current_is_head(results: dict[str, CompletedProcess[str]], head: str) -> None:
    assert f"Rev: {head} (head)" in _ok(results["current"])


def test_db_history_lists_every_revision(
    results: dict[str, CompletedProcess[str]], head: str
) -> None:
    output = _ok(results["history"])
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    for revision in script.walk_revisions():
        assert revision.revision in output
    assert f"{head} (head)" in output


def test_db_upgrade_at_head_is_a_no_op(
    results: dict[str, CompletedProcess[str]], settings: Settings, head: str
) -> None:
    result = results["upgrade"]
    _ok(result)
    assert "Running upgrade" not in result.stderr
    assert asyncio.run(_alembic_version(settings))[0] == head


def test_schema_applies_the_cassandra_keyspace(
    results: dict[str, CompletedProcess[str]], settings: Settings
) -> None:
    output = _ok(results["schema"])
    assert f"cassandra schema applied to {settings.CASSANDRA_KEYSPACE}" in output


def test_db_seed_is_idempotent(
    results: dict[str, CompletedProcess[str]], settings: Settings
) -> None:
    try:
        first = _ok(results["seed"])
        # Again, once the first has finished: nothing breaks and nothing is duplicated.
        second = _ok(run_cli("db", "seed", env={"FIRST_SUPERUSER_EMAIL": SEED_EMAIL}))
        assert SEED_EMAIL in first
        assert SEED_EMAIL in second
        assert asyncio.run(_sql(settings, "SELECT count(*) FROM users WHERE email = $1")) == 1
    finally:
        asyncio.run(_sql(settings, "DELETE FROM users WHERE email = $1"))


async def _sql(settings: Settings, statement: str) -> object:
    conn = await asyncpg.connect(_dsn(settings), timeout=5)
    try:
        return await conn.fetchval(statement, SEED_EMAIL)
    finally:
        await conn.close()


def _dsn(settings: Settings) -> str:
    return settings.DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _alembic_version(settings: Settings) -> tuple[str, str]:
    """The recorded revision and the row's xmin (which changes if the row is ever rewritten)."""
    conn = await asyncpg.connect(_dsn(settings), timeout=5)
    try:
        row = await conn.fetchrow("SELECT version_num, xmin::text AS xmin FROM alembic_version")
        assert row is not None
        return str(row["version_num"]), str(row["xmin"])
    finally:
        await conn.close()


def test_db_reset_refuses_production_without_yes(
    app: FastAPI, settings: Settings, head: str
) -> None:
    before = asyncio.run(_alembic_version(settings))
    result = run_cli("db", "reset", env=PRODUCTION_ENV)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to reset the production database without --yes" in result.stderr
    assert "Running downgrade" not in result.stderr
    # Untouched: same revision, and the very same row version (a reset would rewrite it).
    assert asyncio.run(_alembic_version(settings)) == before
    assert before[0] == head
