"""Servers of a test's own (scratch directory, free port) for faults that need the real server to
stop, refuse connections or be left mid-transaction: the shared local servers are never touched.
PostgreSQL from the Debian binaries, MongoDB wire from SecantusDB."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port

PG_BIN = Path(os.environ.get("QUARTET_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class OwnPostgres:
    port: int
    data: Path

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args, check=check)


def _as_postgres(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """initdb and pg_ctl refuse to run as root."""
    if os.geteuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, cwd="/")


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started server (trust auth, loopback only); stopped and wiped on the way out."""
    root = Path(tempfile.mkdtemp(prefix="quartet-pg-", dir="/var/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = OwnPostgres(free_port(), root / "data")
    try:
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={server.port} "
            f"-c unix_socket_directories={root} -c fsync=off"
        )
        server.pg_ctl("-l", str(root / "log"), "-o", options, "-w", "start")
        yield server
    finally:
        server.pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


@asynccontextmanager
async def own_mongo() -> AsyncIterator[str]:
    """A SecantusDB server answering at the yielded MongoDB URL; killed and wiped afterwards."""
    from pymongo import AsyncMongoClient

    root = Path(tempfile.mkdtemp(prefix="quartet-mongo-"))
    port = free_port()
    exe = Path(sys.executable).parent / "secantusd-py"
    args = ["--host", "127.0.0.1", "--port", str(port), "--storage-path", str(root)]
    process = await asyncio.create_subprocess_exec(
        str(exe),
        *args,
        "--log-level",
        "WARNING",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    try:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=30_000
        )
        try:
            await client.admin.command("ping")
        finally:
            await client.close()
        yield url
    finally:
        process.kill()
        await process.wait()
        shutil.rmtree(root, ignore_errors=True)
