"""`quartet serve`, the image's command, takes host, port and workers from the environment
(SERVER_HOST, SERVER_PORT, SERVER_WORKERS), as the container sets them."""

from __future__ import annotations

import os
import sys
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
    }
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with serving([sys.executable, "-m", "quartet.cli", "serve"], env, port, log) as running:
        yield running


def test_serve_uses_the_server_settings(served: Server) -> None:
    response = httpx.get(f"{served.base_url}/health/readiness", timeout=10)
    assert response.status_code == 200, response.text
    assert "Started parent process" in served.output()  # uvicorn's supervisor of 2 workers
    assert served.output().count("Application startup complete") == 2
