"""scripts/services.py itself: `up` is idempotent, `status` reports versions, and data written
through the real drivers survives `down` + `up`.

These tests stop and start the shared local servers, so they are marked `restarts_services`
(tests/conftest.py runs them last) and a fixture always runs `services.py up` afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from quartet.local_ports import (
    CASSANDRA_PORT,
    MAILPIT_SMTP_PORT,
    MONGO_PORT,
    PG_PORT,
    REDIS_PORT,
    S3_PORT,
)
from tests.services import (
    cassandra_session,
    cql,
    mongo_client,
    pg_connect,
    redis_client,
    unique,
)

pytestmark = pytest.mark.restarts_services

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.py"
STORES = ("postgres", "redis", "mongo", "cassandra", "s3", "mailpit")
PORTS = {
    "postgres": PG_PORT,
    "redis": REDIS_PORT,
    "mongo": MONGO_PORT,
    "cassandra": CASSANDRA_PORT,
    "s3": S3_PORT,
    "mailpit": MAILPIT_SMTP_PORT,
}
STATUS_UP = re.compile(
    r"^(?P<store>\w+)\s+up\s+(?P<version>\S+)\s+pid (?P<pid>\d+)\s+(?P<host>[\d.]+):(?P<port>\d+)$",
    re.MULTILINE,
)


def services(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run scripts/services.py as `make` does; Cassandra alone may take a minute to start."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    took = time.monotonic() - started
    print(f"$ services.py {' '.join(args)}  ({took:.1f}s, exit {result.returncode})")
    print(result.stdout + result.stderr)
    return result


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def running_pids() -> dict[str, int]:
    """Each store's server PID from `status`, which must report all four up."""
    result = services("status", timeout=120)
    assert result.returncode == 0, output(result)
    pids = {m["store"]: int(m["pid"]) for m in STATUS_UP.finditer(result.stdout)}
    assert sorted(pids) == sorted(STORES), output(result)
    return pids


def pidfile_pid(store: str) -> int:
    """The PID the manager tracks in its own PID file (PostgreSQL's is `postmaster.pid`)."""
    services_dir = Path(os.environ.get("QUARTET_SERVICES_DIR", ROOT / ".services"))
    if store == "postgres":
        path = services_dir / "postgres" / "data" / "postmaster.pid"
    else:
        path = services_dir / store / f"{store}.pid"
    return int(path.read_text().split()[0])


def live_processes() -> dict[int, int]:
    """Every live (non-zombie) process on the machine, as pid -> session id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            found[int(entry.name)] = int(fields[3])
    return found


def ensure_up() -> None:
    result = services("up")
    assert result.returncode == 0, f"services.py up failed:\n{output(result)}"


@pytest.fixture(autouse=True)
def _services_up_afterwards() -> Iterator[None]:
    """Whatever a test did or wherever it failed, the four servers run again after it."""
    yield
    ensure_up()


def test_second_up_is_a_no_op() -> None:
    before = running_pids()

    result = services("up")

    assert result.returncode == 0, output(result)
    for store in STORES:
        line = re.search(
            rf"^{store}\s+up\s+\S+\s+already running \(pid (\d+)\)$", result.stdout, re.M
        )
        assert line is not None, f"{store} not reported as already running:\n{output(result)}"
        assert int(line[1]) == before[store]
        assert pidfile_pid(store) == before[store]
    assert "started" not in result.stdout
    assert running_pids() == before


def test_status_lists_every_store_with_its_version() -> None:
    result = services("status", timeout=120)

    assert result.returncode == 0, output(result)
    found = {m["store"]: m for m in STATUS_UP.finditer(result.stdout)}
    assert list(found) == list(STORES), output(result)
    for store, match in found.items():
        assert (match["host"], int(match["port"])) == ("127.0.0.1", PORTS[store])
    assert re.fullmatch(r"15\.\d+", found["postgres"]["version"])
    assert re.fullmatch(r"7\.\d+\.\d+", found["redis"]["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", found["mongo"]["version"])
    assert re.fullmatch(r"5\.0\.\d+", found["cassandra"]["version"])
    assert found["s3"]["version"] == "versitygw-v1.8.0"


@dataclass
class Scratch:
    """Names of the data the persistence test writes, one per store."""

    pg_schema: str
    redis_key: str
    mongo_db: str
    keyspace: str


@pytest.fixture
async def scratch() -> AsyncIterator[Scratch]:
    names = Scratch(
        pg_schema=unique("services_persist"),
        redis_key=f"test:services:{uuid.uuid4().hex}:persist",
        mongo_db=unique("quartet_services"),
        keyspace=unique("quartet_services"),
    )
    yield names
    # The test may have failed with the servers down: start them before cleaning up.
    ensure_up()
    conn = await pg_connect()
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{names.pg_schema}" CASCADE')
    finally:
        await conn.close()
    redis = redis_client()
    try:
        await redis.delete(names.redis_key)
    finally:
        await redis.aclose()
    mongo = mongo_client()
    try:
        await mongo.drop_database(names.mongo_db)
    finally:
        await mongo.close()
    async with cassandra_session() as session:
        await cql(session, f"DROP KEYSPACE IF EXISTS {names.keyspace}")


async def write_everywhere(scratch: Scratch, token: uuid.UUID) -> None:
    conn = await pg_connect()
    try:
        await conn.execute(f'CREATE SCHEMA "{scratch.pg_schema}"')
    finally:
        await conn.close()
    conn = await pg_connect(scratch.pg_schema)
    try:
        await conn.execute("CREATE TABLE persist (id uuid PRIMARY KEY, body text NOT NULL)")
        await conn.execute("INSERT INTO persist (id, body) VALUES ($1, $2)", token, "kept")
    finally:
        await conn.close()

    redis = redis_client()
    try:
        await redis.set(scratch.redis_key, str(token))
    finally:
        await redis.aclose()

    mongo = mongo_client()
    try:
        await mongo[scratch.mongo_db]["items"].insert_one({"_id": token.hex, "body": "kept"})
    finally:
        await mongo.close()

    async with cassandra_session() as session:
        await cql(
            session,
            f"CREATE KEYSPACE {scratch.keyspace} WITH replication ="
            " {'class': 'SimpleStrategy', 'replication_factor': 1}",
        )
    async with cassandra_session(scratch.keyspace) as session:
        await cql(session, "CREATE TABLE items (id uuid PRIMARY KEY, body text)")
        await cql(session, "INSERT INTO items (id, body) VALUES (%s, %s)", (token, "kept"))


async def read_everywhere(scratch: Scratch, token: uuid.UUID) -> dict[str, object]:
    conn = await pg_connect(scratch.pg_schema)
    try:
        pg = await conn.fetchval("SELECT body FROM persist WHERE id = $1", token)
    finally:
        await conn.close()

    redis = redis_client()
    try:
        cached = await redis.get(scratch.redis_key)
    finally:
        await redis.aclose()

    mongo = mongo_client()
    try:
        doc = await mongo[scratch.mongo_db]["items"].find_one({"_id": token.hex})
    finally:
        await mongo.close()

    async with cassandra_session(scratch.keyspace) as session:
        rows = await cql(session, "SELECT body FROM items WHERE id = %s", (token,))
    return {
        "postgres": pg,
        "redis": cached,
        "mongo": doc,
        "cassandra": [row.body for row in rows],
    }


async def test_data_survives_down_and_up(scratch: Scratch) -> None:
    token = uuid.uuid4()
    expected = {
        "postgres": "kept",
        "redis": str(token),
        "mongo": {"_id": token.hex, "body": "kept"},
        "cassandra": ["kept"],
    }
    pids = running_pids()
    leaders = set(pids.values())
    ours = {pid for pid, sid in live_processes().items() if pid in leaders or sid in leaders}
    assert leaders <= ours
    await write_everywhere(scratch, token)
    assert await read_everywhere(scratch, token) == expected

    down = services("down", timeout=300)

    assert down.returncode == 0, output(down)
    for store in STORES:
        assert re.search(rf"^{store}\s+stopped$", down.stdout, re.M), output(down)
    left = {pid for pid, sid in live_processes().items() if pid in ours or sid in leaders}
    assert not left, f"processes of ours still running after down: {sorted(left)}"

    status = services("status", timeout=120)
    assert status.returncode != 0, output(status)
    for store in STORES:
        assert re.search(rf"^{store}\s+down$", status.stdout, re.M), output(status)

    up = services("up")

    assert up.returncode == 0, output(up)
    for store in STORES:
        assert re.search(rf"^{store}\s+started\s", up.stdout, re.M), output(up)
    assert sorted(running_pids()) == sorted(STORES)
    assert await read_everywhere(scratch, token) == expected
