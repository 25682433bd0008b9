"""wrk (Debian's `wrk`, a C load generator) driven from the benchmarks: one thread, fixed
connections, a fixed duration, results parsed from its `--latency` report.

A missing wrk is installed with apt when running as root (as the services script does for
the stores); otherwise the benchmark says how to install it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError

ANSWER_TIMEOUT_S = 10.0
"""wrk's own default (2 s) would count a slow answer as a socket error, not as a latency: the
app answers 503 itself once its store deadline has passed."""
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
    client_cpu: float = float("nan")
    """wrk's own CPU over the run, in percent of one core."""


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


def _lua_script(method: str, bodies: Sequence[str]) -> str:
    """A wrk script sending `method` with a body picked at random from `bodies` per request."""
    listed = ", ".join(json.dumps(body) for body in bodies)  # JSON strings are Lua strings
    return (
        f'wrk.method = "{method}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{{listed}}}\n"
        "request = function()\n"
        "  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])\n"
        "end\n"
    )


async def run_wrk(
    url: str,
    *,
    duration: float,
    connections: int,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    bodies: Sequence[str] = (),
) -> WrkResult:
    """One wrk run; with `bodies`, each request sends one of them (chosen at random)."""
    command = [await ensure_wrk(), "--latency", "-t1", f"-c{connections}", f"-d{duration:g}s"]
    command += ["--timeout", f"{ANSWER_TIMEOUT_S:g}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory(prefix="quartet-wrk-") as scratch:
        if bodies or method != "GET":
            script = Path(scratch) / "request.lua"
            script.write_text(_lua_script(method, bodies or ("",)))
            command += ["-s", str(script)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = await asyncio.create_subprocess_exec(
            *command, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        stdout, stderr = await process.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise BenchError(f"wrk failed: {stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = parse(stdout.decode())
    return WrkResult(
        result.per_second,
        result.requests,
        result.errors,
        result.p50_ms,
        result.p99_ms,
        100 * cpu / duration,
    )
