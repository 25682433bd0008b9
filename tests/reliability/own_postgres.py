"""A PostgreSQL server of a test's own (initdb in a scratch directory, a free port), for faults
that need the real server to stop or refuse connections: the shared local server is never
touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    root = Path(tempfile.mkdtemp(prefix="quartet-pg-", dir="/var/tmp"))  # noqa: S108
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
        options = f"-c listen_addresses=127.0.0.1 -c port={server.port} -c unix_socket_directories={root} -c fsync=off"
        server.pg_ctl("-l", str(root / "log"), "-o", options, "-w", "start")
        yield server
    finally:
        server.pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
