"""The app served by a real uvicorn process over real HTTP, as Kubernetes would probe it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ROOT, free_port
from tests.conftest import test_env as app_env

START_TIMEOUT_S = 90.0  # generous: a loaded CI machine imports slowly
BODY_LIMIT = 2048


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _wait_until_live(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/health/liveness", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"uvicorn did not answer within {START_TIMEOUT_S}s:\n{server.output()}")


@pytest.fixture(scope="module")
def server(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`app` guarantees the run's database, keyspace and prefix exist (and are cleaned up)."""
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    env = {**os.environ, **app_env(), "MAX_REQUEST_BODY_BYTES": str(BODY_LIMIT)}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "quartet.main:app"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "info"),
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_live(running)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_readiness_over_real_http(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/health/readiness", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["stores"]) == {"postgres", "redis", "mongodb", "cassandra"}
    assert all(store["status"] == "ok" for store in body["stores"].values())
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_errors_and_body_limit_over_real_http(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        missing = http.get("/nope", headers={"X-Request-ID": "uvicorn-test-0001"})
        assert missing.status_code == 404
        assert missing.json() == {
            "error": "not_found",
            "detail": "Not Found",
            "request_id": "uvicorn-test-0001",
        }
        too_big = http.post("/nope", content=b"x" * (BODY_LIMIT + 1))
        assert too_big.status_code == 413
        assert too_big.json()["error"] == "payload_too_large"


def test_uvicorn_shuts_down_cleanly(server: Server) -> None:
    """SIGTERM runs the lifespan shutdown (every store closed); this test runs last here."""
    server.process.terminate()
    # uvicorn re-raises the signal it handled once shutdown is complete, hence -SIGTERM.
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM), server.output()
    output = server.output()
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
