"""The app served by a real uvicorn process over real HTTP, as Kubernetes would probe it."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.live_server import Server, live_server

BODY_LIMIT = 2048


@pytest.fixture(scope="module")
def server(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`app` guarantees the run's database, keyspace and prefix exist (and are cleaned up)."""
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with live_server(log, {"MAX_REQUEST_BODY_BYTES": str(BODY_LIMIT)}) as running:
        yield running


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
