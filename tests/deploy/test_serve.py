"""`quartet serve`, the image's command, takes host, port and workers from the environment
(SERVER_HOST, SERVER_PORT, SERVER_WORKERS), as the container sets them."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import free_port
from tests.conftest import test_env as app_env
from tests.servers import Server, serving


@pytest.fixture(scope="module")
def served(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`app` guarantees the run's database, keyspace and prefix exist (and are cleaned up)."""
    port = free_port()
    env = {
        **os.environ,
        **app_env(),
        "SERVER_HOST": "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_WORKERS": "2",
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with serving([sys.executable, "-m", "quartet.cli", "serve"], env, port, log) as running:
        yield running


def _worker_pids(server: Server) -> set[int]:
    return {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", server.output())}


def test_serve_uses_the_server_settings(served: Server) -> None:
    response = httpx.get(f"{served.base_url}/health/readiness", timeout=10)
    assert response.status_code == 200, response.text
    # Each worker process logs its start once it has loaded the app (and its logging); the
    # first may answer before the second has started.
    deadline = time.monotonic() + 60
    while len(workers := _worker_pids(served)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(workers) == 2, served.output()
    assert served.process.pid not in workers
