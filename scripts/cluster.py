"""`make cluster-up`: the app past one machine, on this one.

A three-node Cassandra ring (scripts/cassandra_ring.py), a six-process Redis Cluster
(scripts/redis_cluster.py) and three API instances (uvicorn, one worker each) behind a local
nginx that round-robins over them and passes a request the next instance when one refuses the
connection. PostgreSQL and MongoDB stay the single local servers of `make services-up` (database
`quartet_cluster` in each). Everything the instances share lives in the stores: rate limits,
lockouts, revocations, OAuth state and codes in Redis, the outbox and erasure jobs claimed with
`FOR UPDATE SKIP LOCKED`, events written with idempotent upserts. The instances' settings go to
`cluster-env.json` for the drills (tests/cluster) to read. Data and logs live under
QUARTET_CLUSTER_DIR (default: QUARTET_SERVICES_DIR).

Usage: python scripts/cluster.py up|down|status [--no-redis-cluster]
       python scripts/cluster.py stop-api|start-api N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cassandra_ring
import httpx

import services
from quartet import local_ports

ROOT = services.ROOT
CLUSTER_DIR = cassandra_ring.CLUSTER_DIR
ENV_FILE = CLUSTER_DIR / "cluster-env.json"
DATABASE = "quartet_cluster"
HOST = local_ports.HOST
PROXY_PORT = local_ports.CLUSTER_PROXY_PORT
API_PORTS = local_ports.CLUSTER_API_PORTS
GRACEFUL_SHUTDOWN_SECONDS = 20
# nginx is a Debian package like the stores' servers; services.py installs it the same way.
services.APT_PACKAGES.setdefault("nginx", ["nginx"])


def app_env(redis_nodes: list[str]) -> dict[str, str]:
    """The instances' settings: the ring, the Redis Cluster when there is one, and the single
    PostgreSQL and MongoDB. The load of the drills comes from one address, so the per-client
    rate limits are out of its way."""
    env = {
        "ENVIRONMENT": "dev",
        "DATABASE_URL": f"postgresql+asyncpg://{local_ports.PG_SERVER}/{DATABASE}",
        "MONGODB_DB": DATABASE,
        "REDIS_KEY_PREFIX": "cluster:",
        "CASSANDRA_KEYSPACE": "quartet",
        **local_ports.cassandra_ring_settings(),
        "TRUSTED_PROXIES": HOST,
        "MEDIA_ROOT": str(CLUSTER_DIR / "media"),
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "AUTH_RATE_LIMIT_PER_MINUTE": "1000000",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
    if redis_nodes:
        env["REDIS_CLUSTER_NODES"] = ",".join(redis_nodes)
    return env


def saved_env() -> dict[str, str]:
    try:
        env: dict[str, str] = json.loads(ENV_FILE.read_text())
    except OSError:
        raise services.ServiceError("the cluster is not set up: run `make cluster-up`") from None
    return env


class ApiInstance(services.Service):
    """One uvicorn process of the app on its own port; ready when /health/readiness says so."""

    def __init__(self, n: int, env: dict[str, str]) -> None:
        super().__init__(f"api-{n}", API_PORTS[n - 1])
        self.env = env

    @property
    def dir(self) -> Path:
        return CLUSTER_DIR / self.name

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "quartet.main:app",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            str(GRACEFUL_SHUTDOWN_SECONDS),
        ]
        services._spawn(cmd, self.log, self.pidfile, {**os.environ, **self.env})

    async def version(self) -> str:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"http://{HOST}:{self.port}/health/readiness")
        if answer.status_code != 200:
            raise services.ServiceError(f"{self.name}: not ready ({answer.status_code})")
        return "ready"


class Nginx(services.Service):
    """The proxy: round-robin over the instances; a request whose instance refuses the connection
    (stopped, restarting) goes to the next one, which is safe for any method because the request
    was never sent. No upstream keep-alive, so no request is ever written to a connection the
    instance is closing (nginx would not resend a POST that may have been received)."""

    def __init__(self) -> None:
        super().__init__("nginx", PROXY_PORT)

    @property
    def dir(self) -> Path:
        return CLUSTER_DIR / "nginx"

    @property
    def config(self) -> Path:
        return self.dir / "nginx.conf"

    @property
    def marker(self) -> str:
        return str(self.config)

    def prepare(self) -> None:
        services._ensure_commands("nginx", ["nginx"])
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        upstreams = "\n".join(
            f"        server {HOST}:{port} max_fails=1 fail_timeout=2s;" for port in API_PORTS
        )
        temp = self.dir / "tmp"
        self.config.write_text(
            f"""# Written by scripts/cluster.py: the local cluster's proxy.
worker_processes 1;
pid {self.dir / "nginx-master.pid"};
error_log {self.dir / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {temp}/client;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    client_max_body_size 16m;
    upstream quartet_api {{
{upstreams}
    }}
    server {{
        listen {HOST}:{PROXY_PORT};
        location / {{
            proxy_pass http://quartet_api;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {len(API_PORTS)};
        }}
    }}
}}
"""
        )

    def start(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        cmd = [nginx, "-c", str(self.config), "-p", str(self.dir), "-g", "daemon off;"]
        services._spawn(cmd, self.log, self.pidfile)

    async def version(self) -> str:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"http://{HOST}:{PROXY_PORT}/health/liveness")
        answer.raise_for_status()
        return "nginx"


def _redis_cluster_up() -> list[str]:
    import redis_cluster

    nodes: list[str] = redis_cluster.up(CLUSTER_DIR)
    return nodes


def _redis_cluster_down() -> None:
    import redis_cluster

    redis_cluster.down(CLUSTER_DIR)


async def _ensure_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(f"postgresql://{local_ports.PG_SERVER}/postgres", timeout=5)
    try:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not found:
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()


def _cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quartet.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise services.ServiceError(f"quartet {' '.join(args)}:\n{result.stdout}{result.stderr}")


def _start(service: services.Service) -> float:
    started = time.monotonic()
    try:
        if service.pid() is None:
            service.prepare()
            service.start()
        services._wait_ready(service, started)
    except services.ServiceError as error:
        raise services.ServiceError(f"{error}\n{services._tail(service.log)}") from None
    return time.monotonic() - started


def start_api(n: int) -> float:
    return _start(ApiInstance(n, saved_env()))


def stop_api(n: int) -> None:
    """SIGTERM: uvicorn stops accepting, finishes what it holds and exits (graceful)."""
    ApiInstance(n, {}).stop()


def up(redis: bool) -> None:
    t0 = time.monotonic()
    services._log(f"cassandra ring: three nodes in {cassandra_ring.up():.0f} s")
    redis_nodes = _redis_cluster_up() if redis else []
    if redis:
        services._log(f"redis cluster: {' '.join(redis_nodes)}")
    env = app_env(redis_nodes)
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text(json.dumps(env, indent=2) + "\n")
    asyncio.run(_ensure_database())
    for step in (["db", "upgrade"], ["schema"], ["db", "seed"]):
        _cli(env, *step)
    for n in range(1, len(API_PORTS) + 1):
        seconds = start_api(n)
        services._log(f"api-{n}: ready on {HOST}:{API_PORTS[n - 1]} ({seconds:.0f} s)")
    _start(Nginx())
    services._log(
        f"nginx: http://{HOST}:{PROXY_PORT} over {len(API_PORTS)} instances; "
        f"cluster up in {time.monotonic() - t0:.0f} s"
    )


def down(redis: bool) -> None:
    for service in (Nginx(), *(ApiInstance(n, {}) for n in range(1, len(API_PORTS) + 1))):
        service.stop()
        services._log(f"{service.name}: stopped")
    if redis:
        _redis_cluster_down()
        services._log("redis cluster: stopped")
    cassandra_ring.down()


def status() -> int:
    down_count = 0
    for service in (*(ApiInstance(n, {}) for n in range(1, len(API_PORTS) + 1)), Nginx()):
        state = asyncio.run(services._probe(service)) if service.pid() else None
        down_count += state is None
        services._log(f"{service.name:<12} {state or 'down'} on {HOST}:{service.port}")
    return cassandra_ring.status() or (1 if down_count else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "stop-api", "start-api"])
    parser.add_argument("instance", nargs="?", type=int, help="1 to 3 (stop-api, start-api)")
    parser.add_argument(
        "--no-redis-cluster",
        action="store_true",
        help="the instances use the single local Redis (REDIS_URL) instead of a Redis Cluster",
    )
    args = parser.parse_args(argv)
    redis = not args.no_redis_cluster
    try:
        if args.action == "up":
            up(redis)
        elif args.action == "down":
            down(redis)
        elif args.action == "status":
            return status()
        elif args.instance is None or not 1 <= args.instance <= len(API_PORTS):
            parser.error(f"{args.action} needs an instance number, 1 to {len(API_PORTS)}")
        elif args.action == "stop-api":
            stop_api(args.instance)
        else:
            services._log(f"api-{args.instance}: ready in {start_api(args.instance):.0f} s")
    except services.ServiceError as error:
        services._log(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
