"""wrk (Debian's `wrk`, a C load generator) driven from the benchmarks: one thread, fixed
connections, a fixed duration, results parsed from its `--latency` report.

A missing wrk is installed with apt when running as root (as the services script does for
the stores); otherwise the benchmark says how to install it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from bench.common import BenchError

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    per_second: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


async def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (("apt-get", "update", "-qq"), ("apt-get", "install", "-y", "-qq", "wrk")):
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await process.communicate()
        if process.returncode != 0:
            raise BenchError(f"{' '.join(command)} failed: {stderr.decode()[-500:]}")
    return shutil.which("wrk") or "wrk"


def parse(report: str) -> WrkResult:
    rate, total = _RATE.search(report), _TOTAL.search(report)
    if rate is None or total is None:
        raise BenchError(f"unexpected wrk output:\n{report[-1000:]}")
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(report)}
    errors = sum(int(n) for n in _NON_2XX.findall(report))
    socket_errors = _SOCKET_ERRORS.search(report)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(
        per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        errors=errors,
        p50_ms=percentiles.get("50", float("nan")),
        p99_ms=percentiles.get("99", float("nan")),
    )


async def run_wrk(
    url: str,
    *,
    duration: float,
    connections: int,
    headers: Mapping[str, str] | None = None,
) -> WrkResult:
    command = [await ensure_wrk(), "--latency", "-t1", f"-c{connections}", f"-d{duration:g}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    process = await asyncio.create_subprocess_exec(
        *command, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise BenchError(f"wrk failed: {stderr.decode()[-500:]}")
    return parse(stdout.decode())
