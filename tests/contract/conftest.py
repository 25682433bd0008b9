"""The pinned npm tools of the TypeScript client test, installed once per machine."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

TS_DIR = Path(__file__).parent / "ts"
NPM_TIMEOUT_S = 600


def _installed(node_modules: Path) -> bool:
    """npm's own record of the tree it installed is at least as new as the lock file."""
    record = node_modules / ".package-lock.json"
    lock = TS_DIR / "package-lock.json"
    return record.exists() and record.stat().st_mtime >= lock.stat().st_mtime


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/contract/ts/node_modules from package-lock.json (`npm ci`), when missing or older
    than the lock; a file lock keeps concurrent test runs from installing over each other."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the TypeScript client test needs Node.js and npm on PATH")
    installed = TS_DIR / "node_modules"
    with (TS_DIR / "package-lock.json").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(installed):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=TS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return installed
