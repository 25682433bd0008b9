"""Preparing prometheus-client's multiprocess directory before uvicorn starts its workers.

Several workers each count in their own files under PROMETHEUS_MULTIPROC_DIR and a scrape sums
them. The directory must start empty (old files would add a previous run's counts), and must
be set before any worker imports prometheus-client; `quartet serve` does both.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_metrics_dir(workers: int) -> Path | None:
    """Empty PROMETHEUS_MULTIPROC_DIR when set; with several workers and none set, make one."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory and workers > 1:
        directory = tempfile.mkdtemp(prefix="quartet-metrics-")
        os.environ[MULTIPROC_ENV] = directory
    if not directory:
        return None
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path
