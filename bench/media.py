"""Issue 19 benchmark: media upload throughput for a 10 MB file on each storage backend, and the
app's peak memory while 8 uploads stream at once (streaming must keep it flat).

For each backend (`local`: a temporary MEDIA_ROOT; `s3`: a bucket of its own on the local
versitygw server from scripts/services.py): stores of its own (bench.common.bench_stores), ONE
uvicorn worker, one user registered and logged in through the API. The load generator is curl,
one process per upload (multipart from the file on disk), so no Python client sets the pace:

1. sequential: uploads one after another; MB/s and time per upload;
2. concurrent: 8 curl processes at once, each uploading several times, while this process reads
   the server's resident memory (VmRSS) every 10 ms; MB/s and the peak RSS against the idle RSS.

The 10 MB file is an MP4 (sniffed, hashed, stored; images are also decoded and re-encoded, which
costs CPU, not streaming memory). Figures compare backends of one run on a shared machine.

Usage: .venv/bin/python bench/media.py [--sequential 8] [--concurrent 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiobotocore.session import get_session

from bench.common import (
    API,
    BenchError,
    Server,
    bench_env,
    bench_stores,
    machine_note,
    print_table,
    uvicorn_server,
)
from bench.common import run as run_main
from quartet import local_ports

FILE_BYTES = 10 * 1024 * 1024
MB = 1024 * 1024


def make_file(directory: Path) -> Path:
    """A 10 MiB MP4: an `ftyp` box, then an `mdat` box of random bytes."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    payload = os.urandom(FILE_BYTES - len(ftyp) - 8)
    path = directory / "clip.mp4"
    path.write_bytes(ftyp + struct.pack(">I", 8 + len(payload)) + b"mdat" + payload)
    return path


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS for pid {pid}")


async def sign_in(server: Server) -> str:
    name = f"bench{secrets.token_hex(5)}"
    password = f"{secrets.token_urlsafe(16)}a1"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        body = {"email": f"{name}@example.com", "password": password, "username": name}
        registered = await http.post(f"{API}/auth/register", json=body)
        if registered.status_code != 201:
            raise BenchError(f"register failed: {registered.text}")
        login = await http.post(
            f"{API}/auth/login", json={"email": body["email"], "password": password}
        )
        if login.status_code != 200:
            raise BenchError(f"login failed: {login.text}")
        return str(login.json()["access_token"])


async def curl_uploads(server: Server, token: str, path: Path, count: int) -> list[float]:
    """`count` uploads one after another by curl; the seconds each took (all must be 201)."""
    took = []
    for _ in range(count):
        process = await asyncio.create_subprocess_exec(
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
            "-H", f"Authorization: Bearer {token}",
            "-F", f"file=@{path};type=application/octet-stream",
            f"{server.url}{API}/upload/media",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        output, _ = await process.communicate()
        status, seconds = output.decode().split()
        if status != "201":
            raise BenchError(f"an upload answered {status}")
        took.append(float(seconds))
    return took


async def sample_rss(pid: int, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, rss_bytes(pid))
        await asyncio.sleep(0.01)
    return peak


@asynccontextmanager
async def s3_bucket(bucket: str) -> AsyncIterator[None]:
    """The run's bucket is emptied and removed afterwards (the app creates it at start)."""
    try:
        yield
    finally:
        async with get_session().create_client(
            "s3",
            endpoint_url=local_ports.S3_ENDPOINT,
            aws_access_key_id=local_ports.S3_DEV_ACCESS_KEY,
            aws_secret_access_key=local_ports.S3_DEV_SECRET_KEY,
            region_name="us-east-1",
        ) as client:
            listed = await client.list_objects_v2(Bucket=bucket)
            for item in listed.get("Contents", []):
                await client.delete_object(Bucket=bucket, Key=item["Key"])
            await client.delete_bucket(Bucket=bucket)


def backend_env(backend: str, name: str, root: Path) -> dict[str, str]:
    env = bench_env(
        name,
        MEDIA_STORAGE=backend,
        MEDIA_ROOT=str(root),  # objects (local) and staging (both)
        MEDIA_MAX_BYTES=str(15 * MB),
        MEDIA_SWEEP_INTERVAL_SECONDS="0",
    )
    if backend == "local":
        return env
    return {
        **env,
        "MEDIA_S3_ENDPOINT_URL": local_ports.S3_ENDPOINT,
        "MEDIA_S3_BUCKET": name.replace("_", "-"),
        "MEDIA_S3_ACCESS_KEY_ID": local_ports.S3_DEV_ACCESS_KEY,
        "MEDIA_S3_SECRET_ACCESS_KEY": local_ports.S3_DEV_SECRET_KEY,
        "MEDIA_S3_ADDRESSING_STYLE": "path",
        "MEDIA_S3_CREATE_BUCKET": "true",
    }


async def measure(backend: str, args: argparse.Namespace, work: Path) -> list[str]:
    name = f"quartet_bench_media_{backend}"
    root = work / backend
    env = backend_env(backend, name, root)
    async with bench_stores(name, env), uvicorn_server("quartet.main:app", env) as server:
        bucket = s3_bucket(env["MEDIA_S3_BUCKET"]) if backend == "s3" else nullcontext()
        async with bucket:
            token = await sign_in(server)
            path = make_file(work)
            await curl_uploads(server, token, path, 1)  # warm-up
            started = time.perf_counter()
            sequential = await curl_uploads(server, token, path, args.sequential)
            sequential_s = time.perf_counter() - started

            idle = rss_bytes(server.pid)
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(server.pid, stop))
            started = time.perf_counter()
            await asyncio.gather(
                *(curl_uploads(server, token, path, args.rounds) for _ in range(args.concurrent))
            )
            concurrent_s = time.perf_counter() - started
            stop.set()
            peak = await sampler
    uploads = args.concurrent * args.rounds
    return [
        backend,
        f"{args.sequential * FILE_BYTES / MB / sequential_s:.0f}",
        f"{statistics.median(sequential) * 1000:.0f}",
        f"{uploads * FILE_BYTES / MB / concurrent_s:.0f}",
        f"{idle / MB:.0f}",
        f"{peak / MB:.0f}",
        f"{(peak - idle) / MB:+.0f}",
    ]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=8)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="uploads per concurrent client")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise BenchError("curl is needed (apt-get install curl)")
    work = Path(tempfile.mkdtemp(prefix="quartet-bench-media-"))
    try:
        rows = [await measure(backend, args, work) for backend in ("local", "s3")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(
        f"POST {API}/upload/media, a 10 MiB file per upload (curl, one process per upload)",
        (
            "backend",
            "seq MB/s",
            "seq p50 ms",
            f"{args.concurrent}x MB/s",
            "RSS idle MB",
            "RSS peak MB",
            "peak - idle",
        ),
        rows,
    )
    print(f"\n{machine_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
