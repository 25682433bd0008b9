"""A real uvicorn with two workers: /metrics sums both (prometheus-client multiprocess mode),
Sentry receives an unhandled error at a local endpoint, and no secret reaches a log line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.mmap_dict import MmapedDict

from quartet.stores.registry import Stores
from tests.accounts import PASSWORD, Account, bearer, promote, register, unique
from tests.conftest import ROOT
from tests.conftest import test_env as app_env
from tests.observability.helpers import Receiver, low_port, parse, receiver, value

START_TIMEOUT_S = 120.0
WORKERS = 2
API = "/api/v1"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    metrics_dir: Path
    sentry: Receiver

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _live_workers(url: str) -> int:
    try:
        response = httpx.get(f"{url}/metrics", timeout=2)
    except httpx.TransportError:
        return 0
    if response.status_code != 200:
        return 0
    samples = parse(response.text)
    return sum(1 for name, _ in samples if name == "quartet_worker_info")


@pytest.fixture(scope="module")
def sentry() -> Iterator[Receiver]:
    with receiver() as received:
        yield received


@pytest.fixture(scope="module")
def server(
    app: FastAPI, sentry: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`app` guarantees the run's database, keyspace and prefix exist."""
    port = low_port()
    workdir = tmp_path_factory.mktemp("workers")
    metrics_dir = workdir / "prometheus"
    metrics_dir.mkdir()
    log = workdir / "server.log"
    env = {
        **os.environ,
        **app_env(),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{sentry.port}/1",
        "LOG_JSON": "true",
        "LOG_LEVEL": "DEBUG",
        "CASSANDRA_APPLY_SCHEMA_ON_START": "false",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "quartet.main:app"),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log, metrics_dir, sentry)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while _live_workers(running.url) < WORKERS:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn workers did not start:\n{running.output()[-4000:]}")
            time.sleep(0.3)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Admin:
    account: Account
    token: str


@pytest.fixture(scope="module")
async def admin(server: Server, app: FastAPI) -> AsyncIterator[Admin]:
    stores: Stores = app.state.stores
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        account = await register(http, API)
        await promote(stores, account.id)
        login = await http.post(
            f"{API}/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 200, login.text
        yield Admin(account, login.json()["access_token"])


def _requests_per_worker(metrics_dir: Path, route: str) -> dict[str, float]:
    """/health requests each worker counted, read from its own file of the directory."""
    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        for key, count, _, _ in MmapedDict.read_all_values_from_file(str(path)):  # type: ignore[no-untyped-call]
            _, sample, labels, _ = json.loads(key)
            if sample == "quartet_http_requests_total" and labels.get("route") == route:
                counts[pid] = counts.get(pid, 0.0) + count
    return counts


async def test_metrics_sum_both_workers(server: Server) -> None:
    route = {"method": "GET", "route": "/health", "status": "200"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        before = parse((await http.get("/metrics")).text)
    sent = 0
    # Fresh connections, concurrently, until both workers have served some.
    while len(_requests_per_worker(server.metrics_dir, "/health")) < WORKERS:
        assert sent < 400, "one worker took every connection"

        async def one() -> int:
            async with httpx.AsyncClient(base_url=server.url) as http:
                return (await http.get("/health")).status_code

        statuses = await asyncio.gather(*(one() for _ in range(20)))
        assert statuses == [200] * 20
        sent += 20
    async with httpx.AsyncClient(base_url=server.url) as http:
        after = parse((await http.get("/metrics")).text)
    per_worker = _requests_per_worker(server.metrics_dir, "/health")
    assert len(per_worker) == WORKERS
    assert all(count > 0 for count in per_worker.values())
    assert value(after, "quartet_http_requests_total", **route) == sum(per_worker.values())
    assert (
        value(after, "quartet_http_requests_total", **route)
        - value(before, "quartet_http_requests_total", **route)
        == sent
    )
    assert value(after, "quartet_worker_info", version="0.1.0") == WORKERS


async def test_status_counts_workers(server: Server, admin: Admin) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(f"{API}/status", headers=bearer(admin.token))
    assert response.status_code == 200, response.text
    assert response.json()["workers"] == WORKERS
    assert response.json()["sentry"] is True


def _events(received: Receiver) -> list[dict[str, Any]]:
    events = []
    for request in received.requests:
        lines = request.body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


async def test_sentry_receives_unhandled_error(server: Server, admin: Admin) -> None:
    request_id = f"sentry-test-{uuid.uuid4().hex}"
    headers = {**bearer(admin.token), "X-Request-ID": request_id, "X-Session-Token": "s3cr3t"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get("/health/test-sentry", headers=headers)
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "An unexpected error occurred",
        "request_id": request_id,
    }
    deadline = time.monotonic() + 20
    matching: list[dict[str, Any]] = []
    while not matching:
        assert time.monotonic() < deadline, f"no Sentry event for {request_id}"
        await asyncio.to_thread(server.sentry.wait_for, len(server.sentry.requests) + 1, 1.0)
        matching = [e for e in _events(server.sentry) if e["tags"].get("request_id") == request_id]
    event = matching[0]
    assert event["tags"]["user_id"] == str(admin.account.id)
    assert event["tags"]["route"] == "/health/test-sentry"
    assert event["user"] == {"id": str(admin.account.id)}
    assert "SentryTestError" in json.dumps(event["exception"])
    sent_headers = {name.lower() for name in event["request"]["headers"]}
    assert "authorization" not in sent_headers
    assert "x-session-token" not in sent_headers
    raw = b"".join(request.body for request in server.sentry.requests)
    assert admin.token.encode() not in raw
    assert b"s3cr3t" not in raw
    assert b"Bearer" not in raw


async def test_no_secret_in_any_log_line(server: Server) -> None:
    """The auth flows with every secret they carry, then a grep of the workers' logs."""
    secrets: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        account = await register(http, API, password=f"Pw-{unique()}-9")
        secrets.append(account.password)
        login = await http.post(
            f"{API}/auth/login", json={"email": account.email, "password": account.password}
        )
        tokens = login.json()
        secrets += [tokens["access_token"], tokens["session_token"], tokens["refresh_token"]]
        wrong = f"Wrong-{unique()}-1"
        secrets.append(wrong)
        failed = await http.post(
            f"{API}/auth/login", json={"email": account.email, "password": wrong}
        )
        assert failed.status_code == 401
        form = await http.post(
            f"{API}/auth/token", data={"username": account.email, "password": account.password}
        )
        assert form.status_code == 200
        secrets += [form.json()["access_token"], form.json()["refresh_token"]]
        rotated = await http.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert rotated.status_code == 200
        secrets.append(rotated.json()["refresh_token"])
        again = await http.post(
            f"{API}/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
        )
        assert again.status_code == 200
        secrets.append(again.json()["refresh_token"])
        # A grandparent is reuse even within REFRESH_REUSE_GRACE_SECONDS.
        reused = await http.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert reused.status_code == 401
        me = await http.get(f"{API}/auth/me", headers=bearer(form.json()["access_token"]))
        assert me.status_code == 200
        session = await http.get(
            f"{API}/auth/me", headers={"X-Session-Token": form.json()["access_token"]}
        )
        assert session.status_code == 200
        query = await http.get("/health", params={"code": "oauth-code-123", "token": "t-456"})
        assert query.status_code == 200
        secrets += ["oauth-code-123", "t-456"]
        logout = await http.post(f"{API}/auth/logout", headers=bearer(form.json()["access_token"]))
        assert logout.status_code == 204
    await asyncio.sleep(0.5)  # the workers' last lines
    output = server.output()
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == [], "secrets in the logs"
    assert PASSWORD not in output
    assert not re.search(r"eyJ[A-Za-z0-9_-]+\.eyJ", output), "a JWT in the logs"
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    me_lines = [line for line in lines if line.get("route") == f"{API}/auth/me"]
    assert me_lines, "no log line names the route template"
    assert {line.get("user_id") for line in me_lines} == {str(account.id)}
