"""The app served by a real process (uvicorn, `quartet serve`) over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.conftest import test_env as app_env

START_TIMEOUT_S = 90.0  # generous: a loaded CI machine imports slowly


def first_free_port(ports: range, what: str) -> int:
    """The first port of `ports` nothing listens on (fixed ranges from quartet.local_ports)."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {ports} for {what}")


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
            pytest.fail(f"the server exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/health/liveness", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer within {START_TIMEOUT_S}s:\n{server.output()}")


@contextmanager
def serving(
    command: Sequence[str], env: Mapping[str, str], port: int, log: Path
) -> Iterator[Server]:
    """Start `command` (listening on 127.0.0.1:`port`), wait for its liveness probe, and stop
    it afterwards (SIGTERM, then SIGKILL if it hangs)."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command), cwd=ROOT, env=dict(env), stdout=sink, stderr=subprocess.STDOUT
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


@contextmanager
def uvicorn_server(port: int, log: Path, **settings: str) -> Iterator[Server]:
    """`quartet.main:app` on 127.0.0.1:`port` with the run's settings plus `settings`; the
    caller's `app` fixture guarantees the run's database, keyspace and prefix exist."""
    command = [
        *(sys.executable, "-m", "uvicorn", "quartet.main:app"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "info"),
    ]
    with serving(command, {**os.environ, **app_env(), **settings}, port, log) as running:
        yield running
