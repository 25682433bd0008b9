"""The app served by a real uvicorn process over real HTTP on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port
from tests.conftest import test_env as app_env

START_TIMEOUT_S = 90.0  # generous: a loaded CI machine imports slowly


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


@contextmanager
def live_server(log: Path, env: Mapping[str, str]) -> Iterator[Server]:
    """uvicorn serving `quartet.main:app` with the test environment plus `env`; the caller's
    `app` fixture guarantees the run's database, keyspace and prefix exist."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "quartet.main:app"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "info"),
            ],
            cwd=ROOT,
            env={**os.environ, **app_env(), **env},
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
