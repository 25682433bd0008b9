"""The running local cluster as the drills see it: its settings, its proxy, and its scripts
(scripts/cluster.py and scripts/cassandra_ring.py, run as `make cluster-up` runs them)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from quartet import local_ports
from quartet.settings import Settings
from tests.conftest import ROOT

PROXY = f"http://{local_ports.HOST}:{local_ports.CLUSTER_PROXY_PORT}"
CLUSTER_DIR = Path(
    os.environ.get("QUARTET_CLUSTER_DIR")
    or os.environ.get("QUARTET_SERVICES_DIR")
    or ROOT / ".services"
)
SCRIPT_TIMEOUT = 900


def cluster_env() -> dict[str, str]:
    """The API instances' settings, written by `scripts/cluster.py up`."""
    try:
        env: dict[str, str] = json.loads((CLUSTER_DIR / "cluster-env.json").read_text())
    except OSError:
        pytest.fail(f"no local cluster under {CLUSTER_DIR}: run `make cluster-up` first")
    return env


def cluster_settings() -> Settings:
    values: dict[str, Any] = dict(cluster_env())  # strings from the environment: pydantic coerces
    return Settings(_env_file=None, **values)


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{script} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


async def ring(*args: str) -> str:
    """scripts/cassandra_ring.py, off the event loop (the load keeps running meanwhile)."""
    return await asyncio.to_thread(_run, "cassandra_ring.py", *args)


async def api_instances(*args: str) -> str:
    """scripts/cluster.py (stop-api N, start-api N), off the event loop."""
    return await asyncio.to_thread(_run, "cluster.py", *args)
