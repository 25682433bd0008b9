"""`make bench-soak`: mixed traffic on ONE app worker for 10 minutes, its RSS sampled as it
goes; prints the curve, the peak and the growth from the first to the last sample.

The mix (wrk, one thread, one Lua script): GET /auth/me, GET /posts?limit=20 and GET
/health/liveness with a signed-in user's access token, POST /logs/ with a superuser's.

Usage: .venv/bin/python -m bench.soak [--minutes 10] [--interval 20] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import API, Server, bench_env, bench_stores, machine_note, run, uvicorn_server
from bench.events import METADATA
from bench.events import superuser_token as promoted_superuser
from bench.posts_list import register_viewer
from bench.wrk_runner import ANSWER_TIMEOUT_S, ensure_wrk, parse

NAME = "quartet_bench_soak"
RSS_TARGET_MB = 250.0


@dataclass(frozen=True)
class Options:
    minutes: float
    interval: float
    connections: int


def parse_options() -> Options:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the soak")
    parser.add_argument("--interval", type=float, default=20, help="seconds between samples")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    args = parser.parse_args()
    if not (0.5 <= args.minutes <= 120 and 1 <= args.interval <= 300):
        parser.error("minutes 0.5-120, interval 1-300 s")
    return Options(args.minutes, args.interval, args.connections)


def rss_mb(server: Server) -> float:
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mix_script(viewer: str, superuser: str) -> str:
    """Four requests in turn: me, a page of posts, liveness, one logged event."""
    requests = [
        ("GET", f"{API}/auth/me", viewer, ""),
        ("GET", f"{API}/posts?limit=20", viewer, ""),
        ("GET", "/health/liveness", viewer, ""),
        (
            "POST",
            f"{API}/logs/",
            superuser,
            json.dumps({"event_type": "soak", "metadata": METADATA}),
        ),
    ]
    entries = ",\n".join(
        f'  {{"{method}", "{path}", {json.dumps(token)}, {json.dumps(body)}}}'
        for method, path, token, body in requests
    )
    return (
        f"local mix = {{\n{entries}\n}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #mix + 1\n"
        "  local r = mix[n]\n"
        '  local headers = {["Authorization"] = "Bearer " .. r[3],'
        ' ["Content-Type"] = "application/json"}\n'
        '  local body = nil\n  if r[4] ~= "" then body = r[4] end\n'
        "  return wrk.format(r[1], r[2], headers, body)\n"
        "end\n"
    )


async def soak(server: Server, script: str, options: Options) -> list[tuple[float, float]]:
    seconds = options.minutes * 60
    with tempfile.TemporaryDirectory(prefix="quartet-soak-") as scratch:
        path = Path(scratch) / "mix.lua"
        path.write_text(script)
        command = [await ensure_wrk(), "--latency", "-t1", f"-c{options.connections}"]
        command += ["--timeout", f"{ANSWER_TIMEOUT_S:g}s"]
        process = await asyncio.create_subprocess_exec(
            *command,
            f"-d{seconds:g}s",
            "-s",
            str(path),
            server.url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        started = time.monotonic()
        curve = [(0.0, rss_mb(server))]
        waiting = asyncio.ensure_future(process.communicate())
        while not waiting.done():
            await asyncio.wait([waiting], timeout=options.interval)
            curve.append((time.monotonic() - started, rss_mb(server)))
            print(f"  {curve[-1][0]:6.0f} s  {curve[-1][1]:7.1f} MB", flush=True)
        stdout, _ = waiting.result()
    result = parse(stdout.decode())
    print(
        f"mixed traffic: {result.per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.requests} requests, {result.errors} errors"
    )
    return curve


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME, BCRYPT_ROUNDS="4")
    print(f"bench.soak: {options.minutes:g} min on {machine_note()} at start", flush=True)
    async with bench_stores(NAME, env) as dsn, uvicorn_server("quartet.main:app", env) as app:
        viewer = await register_viewer(app.url)
        superuser = await promoted_superuser(app.url, dsn)
        print("RSS of the one app worker (time since the soak began, resident MB):")
        curve = await soak(app, mix_script(viewer.access_token, superuser), options)
    peak = max(rss for _, rss in curve)
    warm = curve[1][1] if len(curve) > 1 else curve[0][1]
    print(
        f"peak RSS {peak:.1f} MB (target < {RSS_TARGET_MB:.0f} MB); after the first sample "
        f"{warm:.1f} MB, at the end {curve[-1][1]:.1f} MB ({curve[-1][1] - warm:+.1f} MB)"
    )
    print(f"bench.soak: {machine_note()} at the end")
    return 0 if peak < RSS_TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(run(main))
