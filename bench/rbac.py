"""Issue 14 benchmark: what a permission check costs, measured with wrk.

1. Dedicated stores named quartet_bench_rbac (migrated by `quartet db upgrade`, seeded by
   `quartet db seed`: the permissions and system groups), dropped at the end. One account is
   put in the `admin` group (not a superuser, so its access token's permissions come from
   Redis) by the seeded superuser, through the API.
2. ONE uvicorn worker of the app plus two probe routes (bench/rbac_probe.py) that differ only
   by `RequirePermission("cache.read")`; `GET /api/v1/auth/me` beside them.
3. Each route with the access token and with the session token: wrk, one thread, short runs.

Usage: .venv/bin/python -m bench.rbac [--duration 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass

import httpx

from bench.common import (
    API,
    SUPERUSER,
    BenchError,
    Server,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    quartet_cli,
    run,
    uvicorn_server,
)
from quartet.settings import DEV_SUPERUSER_PASSWORD

NAME = "quartet_bench_rbac"
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_COUNT = re.compile(r"(\d+) requests in")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Options:
    duration: int
    connections: int


@dataclass(frozen=True)
class WrkResult:
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu: float
    cpu_us_per_request: float


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.rbac", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    args = parser.parse_args()
    if not (1 <= args.duration <= 120 and 1 <= args.connections <= 256):
        parser.error("duration 1-120 s, connections 1-256")
    return Options(args.duration, args.connections)


async def ensure_wrk() -> str:
    """wrk from Debian; installed with apt when missing and running as root."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        process = await asyncio.create_subprocess_exec(
            "apt-get", "install", "-y", "-q", "wrk", stdout=asyncio.subprocess.DEVNULL
        )
        await process.wait()
        found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    return found


async def admin_member(base_url: str) -> dict[str, str]:
    """A new account in the `admin` group (put there by the seeded superuser), logged in
    afterwards; returns its tokens."""
    async with httpx.AsyncClient(base_url=f"{base_url}{API}", timeout=30.0) as http:
        try:
            root = await http.post(
                "/auth/login", json={"email": SUPERUSER, "password": DEV_SUPERUSER_PASSWORD}
            )
            root.raise_for_status()
            as_root = {"Authorization": f"Bearer {root.json()['access_token']}"}
            groups = await http.get("/groups", params={"limit": 100}, headers=as_root)
            groups.raise_for_status()
            admin = next(g["id"] for g in groups.json()["items"] if g["codename"] == "admin")
            email, password = "bench-rbac@example.com", "Bench-rbac-password-7"
            registered = await http.post(
                "/auth/register", json={"email": email, "password": password}
            )
            registered.raise_for_status()
            joined = await http.post(
                f"/users/{registered.json()['id']}/groups",
                json={"group_ids": [admin]},
                headers=as_root,
            )
            joined.raise_for_status()
            login = await http.post("/auth/login", json={"email": email, "password": password})
            login.raise_for_status()
        except httpx.HTTPStatusError as error:
            answer = error.response
            raise BenchError(
                f"{answer.request.url} answered {answer.status_code}: {answer.text[:500]}"
            ) from error
    tokens: dict[str, str] = login.json()
    return tokens


async def wrk(binary: str, server: Server, path: str, token: str, options: Options) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    try:
        before = server.cpu_seconds()
        process = await asyncio.create_subprocess_exec(
            binary,
            "-t1",
            f"-c{options.connections}",
            f"-d{options.duration}s",
            "--latency",
            "-s",
            script.name,
            f"{server.url}{path}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await process.communicate())[0].decode()
        cpu_seconds = server.cpu_seconds() - before
    finally:
        await asyncio.to_thread(os.unlink, script.name)
    rate, count = _RATE.search(output), _COUNT.search(output)
    percentiles = {p: float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rate is None or count is None or len(percentiles) != 2:
        raise BenchError(f"unexpected wrk output:\n{output}")
    errors = _ERRORS.search(output)
    return WrkResult(
        float(rate.group(1)),
        percentiles["50"],
        percentiles["99"],
        int(errors.group(1)) if errors else 0,
        cpu_seconds / options.duration,
        1e6 * cpu_seconds / max(int(count.group(1)), 1),
    )


async def main() -> int:
    options = parse_options()
    binary = await ensure_wrk()
    env = bench_env(NAME)
    print(f"bench.rbac on {machine_note()} at start")
    print(
        f"one uvicorn worker (uvloop, httptools, access log off); wrk -t1 -c{options.connections}"
        f" -d{options.duration}s per row"
    )
    routes = [
        ("GET /api/v1/auth/me", f"{API}/auth/me"),
        ("GET /api/v1/bench/whoami (signed in, no check)", f"{API}/bench/whoami"),
        ("GET /api/v1/bench/guarded (cache.read)", f"{API}/bench/guarded"),
    ]
    rows: list[list[str]] = []
    async with bench_stores(NAME, env):
        await quartet_cli(env, "db", "seed")
        async with uvicorn_server("bench.rbac_probe:app", env) as app:
            tokens = await admin_member(app.url)
            for kind in ("access", "session"):
                for label, path in routes:
                    print(f"{label}, {kind} token ...", flush=True)
                    result = await wrk(binary, app, path, tokens[f"{kind}_token"], options)
                    rows.append(
                        [
                            label,
                            kind,
                            f"{result.per_second:,.0f}",
                            f"{result.p50_ms:.2f}",
                            f"{result.p99_ms:.2f}",
                            str(result.errors),
                            f"{100 * result.server_cpu:.0f}%",
                            f"{result.cpu_us_per_request:,.0f}",
                        ]
                    )
    print_table(
        "Results (latencies in ms; server CPU: 100% = one core)",
        ["route", "token", "req/s", "p50", "p99", "non-2xx", "server CPU", "CPU µs/req"],
        rows,
    )
    print(
        "\nnotes:\n"
        "- whoami and guarded do the same work but the permission check; neither (nor\n"
        "  /auth/me, served from the Redis profile cache) queries PostgreSQL\n"
        "- access token: its permission set comes in the revocation MGET (one more key);\n"
        "  session token: the set is in the token itself\n"
        "- CPU µs/req (the server process's CPU time per answered request) is the figure\n"
        "  least moved by other work on the machine; req/s and latency move with it\n"
        f"- {machine_note()} at the end: other work on the machine moves every figure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
