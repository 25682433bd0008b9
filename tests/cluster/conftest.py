"""Cluster drills run only when asked for (`-m cluster`, as `make test-cluster` does): they need
the cluster of `make cluster-up`, which `make test` does not start. Each drill adds a row to the
table printed at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class DrillRow:
    stopped: str
    requests: int
    failed: int
    recover_seconds: float
    acked: int
    lost: int
    note: str


ROWS: list[DrillRow] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    drills = [item for item in items if item.get_closest_marker("cluster")]
    if drills:
        config.hook.pytest_deselected(items=drills)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("cluster drills")
    write(
        f"{'stopped':<24} {'requests':>8} {'failed':>6} {'recover s':>9} {'acked':>6} "
        f"{'lost':>5}  notes"
    )
    for row in ROWS:
        write(
            f"{row.stopped:<24} {row.requests:>8} {row.failed:>6} {row.recover_seconds:>9.1f} "
            f"{row.acked:>6} {row.lost:>5}  {row.note}"
        )
