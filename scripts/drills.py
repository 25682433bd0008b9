"""Fault drills: each store stopped and frozen under a steady mixed load, one table of outcomes.

Runs its own four stores (scripts/services.py on the DRILL_* ports of quartet.local_ports, data
under .drills/) and the app under uvicorn, so the development stores are never touched. A
steady load (`GET /auth/me`, `POST /posts`, `POST /orders/`, `POST /logs/`) and readiness probes
every 250 ms run throughout; each store is stopped (services.py down, then up) and frozen
(SIGSTOP, then SIGCONT, every process of the server). Per store and fault it prints: readiness
flip and recovery seconds, the statuses seen, 500s, requests slower than the store deadline,
acknowledged writes found/lost (checked at the end, all stores up) and stock consistency (stock
left plus units in stored orders equals the initial stock). Exits 1 when any row fails the bar:
no 500, nothing past the deadline, no acknowledged write lost, recovery within 10 s.

Usage: python scripts/drills.py [--short] [--stores postgres,redis,mongo,cassandra] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from quartet import local_ports

ROOT = Path(__file__).resolve().parent.parent
DRILL_DIR = ROOT / ".drills"
SERVICES_SCRIPT = ROOT / "scripts" / "services.py"
HOST = local_ports.HOST
STORES = local_ports.DRILL_STORES
DEADLINE = 5.0
TOLERANCE = 0.5  # scheduling slack on a loaded machine before a request counts as late
RECOVERY_BAR = 10.0
WORKERS = 6
PRODUCTS = 10
INITIAL_STOCK = 1_000_000
DRILL_PASSWORD = "drill-password-1"  # noqa: S105 - throwaway accounts on the drill's own stores
STORE_LABEL = {
    "postgres": "postgres",
    "redis": "redis",
    "mongo": "mongodb",
    "cassandra": "cassandra",
}


def drill_env() -> dict[str, str]:
    """The services script and the app, both on the drill's ports and data directory."""
    return {
        **os.environ,
        "QUARTET_SERVICES_DIR": str(DRILL_DIR),
        **STORES.environ(),
        "ENVIRONMENT": "dev",
        "DATABASE_URL": f"postgresql+asyncpg://postgres@{HOST}:{STORES.pg}/quartet",
        "REDIS_URL": f"redis://{HOST}:{STORES.redis}/0",
        "MONGODB_URL": f"mongodb://{HOST}:{STORES.mongo}/?directConnection=true",
        "CASSANDRA_PORT": str(STORES.cassandra),
        "CASSANDRA_CONSISTENCY": "ONE",
        "STORE_DEADLINE_SECONDS": str(DEADLINE),
        "HEALTH_CHECK_TIMEOUT": "2",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "AUTH_RATE_LIMIT_PER_MINUTE": "1000000",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "ERROR",
    }


def services_module(env: dict[str, str]) -> ModuleType:
    """scripts/services.py, imported with the drill's environment (it and quartet.local_ports
    read the ports at import), so its PIDs and markers are the drill servers'."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("QUARTET_")})
    importlib.reload(local_ports)
    spec = importlib.util.spec_from_file_location("drill_services", SERVICES_SCRIPT)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {SERVICES_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")


DRILLED_STORES = ("postgres", "redis", "mongo", "cassandra")
"""The drill's own servers (S3 and Mailpit are not drilled: the app does not need them to serve)."""


def services_cmd(action: str, store: str | None, env: dict[str, str]) -> None:
    run(
        [sys.executable, str(SERVICES_SCRIPT), action, *([store] if store else DRILLED_STORES)], env
    )


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (PostgreSQL's backends are the postmaster's children)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


@dataclass
class Sample:
    started: float
    latency: float
    kind: str
    status: int


@dataclass
class Window:
    store: str
    fault: str
    started: float
    restored: float = 0.0
    ended: float = 0.0
    stock_consistent: bool | None = None


@dataclass
class Load:
    """The steady load's record: every request, every probe, every acknowledged write."""

    samples: list[Sample] = field(default_factory=list)
    probes: list[tuple[float, int, tuple[str, ...]]] = field(default_factory=list)
    acked: list[tuple[float, str, str, str]] = field(default_factory=list)  # t, kind, id, token
    running: bool = True


class Drill:
    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base = base
        self.env = env
        self.load = Load()
        self.tokens: list[str] = []
        self.products: list[str] = []
        self.gate = asyncio.Event()  # cleared while stock is counted: no order in flight then
        self.gate.set()
        self.in_flight = 0

    async def prepare(self, http: httpx.AsyncClient) -> None:
        admin = await http.post(
            "/api/v1/auth/login",
            json={"email": "admin@example.com", "password": "change-me-superuser-1"},
        )
        admin.raise_for_status()
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        for n in range(PRODUCTS):
            body = {"name": f"drill {n} {time.time_ns()}", "category": "drill", "price": "1.00"}
            created = await http.post(
                "/api/v1/products/", json={**body, "stock": INITIAL_STOCK}, headers=headers
            )
            created.raise_for_status()
            self.products.append(created.json()["id"])
        for n in range(WORKERS):
            email = f"drill{n}.{time.time_ns()}@example.com"
            account = {"email": email, "password": DRILL_PASSWORD}
            registered = await http.post("/api/v1/auth/register", json=account)
            registered.raise_for_status()
            login = await http.post("/api/v1/auth/login", json=account)
            login.raise_for_status()
            self.tokens.append(login.json()["access_token"])

    async def worker(self, http: httpx.AsyncClient, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[n]}"}
        kinds = ["me", "post", "order", "log"]
        i = n
        while self.load.running:
            kind = kinds[i % len(kinds)]
            i += 1
            await self.gate.wait()
            started = time.monotonic()
            self.in_flight += 1
            try:
                response = await self._request(http, kind, headers, i)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
                response = None
            finally:
                self.in_flight -= 1
            self.load.samples.append(Sample(started, time.monotonic() - started, kind, status))
            if response is not None and status == 201:
                self.load.acked.append(
                    (
                        started,
                        kind,
                        response.json()["id" if kind != "log" else "event_id"],
                        self.tokens[n],
                    )
                )
            await asyncio.sleep(0.02)

    async def _request(
        self, http: httpx.AsyncClient, kind: str, headers: dict[str, str], i: int
    ) -> httpx.Response:
        if kind == "me":
            return await http.get("/api/v1/auth/me", headers=headers)
        if kind == "post":
            return await http.post("/api/v1/posts", json={"content": f"drill {i}"}, headers=headers)
        if kind == "order":
            product = self.products[i % len(self.products)]
            body = {"items": [{"product_id": product, "quantity": 1}]}
            return await http.post("/api/v1/orders/", json=body, headers=headers)
        return await http.post("/api/v1/logs/", json={"event_type": "drill"}, headers=headers)

    async def prober(self, http: httpx.AsyncClient) -> None:
        while self.load.running:
            started = time.monotonic()
            try:
                response = await http.get("/health/readiness")
                failed = tuple(response.json().get("failed", ()))
                self.load.probes.append((started, response.status_code, failed))
            except httpx.HTTPError:
                self.load.probes.append((started, 0, ()))
            await asyncio.sleep(max(0.0, 0.25 - (time.monotonic() - started)))

    async def ready(self, http: httpx.AsyncClient, limit: float = 300.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                if (await http.get("/health/readiness")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
        raise SystemExit("the app did not become ready")


async def fault(
    drill: Drill, services: ModuleType, http: httpx.AsyncClient, store: str, kind: str, hold: float
) -> Window:
    service = services.ALL[store]()
    window = Window(store, kind, time.monotonic())
    loop = asyncio.get_running_loop()
    if kind == "stop":
        await loop.run_in_executor(
            None, run, [sys.executable, "scripts/services.py", "down", store], drill.env
        )
        await asyncio.sleep(hold)
        await loop.run_in_executor(
            None, run, [sys.executable, "scripts/services.py", "up", store], drill.env
        )
    else:
        pids = descendants(service.pid())
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(hold)
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    window.restored = time.monotonic()
    await drill.ready(http)
    await asyncio.sleep(3)
    window.ended = time.monotonic()
    drill.gate.clear()
    while drill.in_flight:  # noqa: ASYNC110 - a counter the workers share
        await asyncio.sleep(0.05)
    window.stock_consistent = await stock_consistent(drill)
    drill.gate.set()
    return window


async def stock_consistent(drill: Drill) -> bool:
    """Stock left plus units in stored orders equals the initial stock, for every product."""
    import uuid

    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        drill.env["MONGODB_URL"], uuidRepresentation="standard"
    )
    try:
        db = client["quartet"]
        ids = [uuid.UUID(p) for p in drill.products]
        sold: dict[uuid.UUID, int] = collections.Counter()
        pipeline: list[dict[str, Any]] = [
            {"$unwind": "$items"},
            {"$match": {"items.product_id": {"$in": ids}}},
            {"$group": {"_id": "$items.product_id", "n": {"$sum": "$items.quantity"}}},
        ]
        async for row in await db.orders.aggregate(pipeline):
            sold[row["_id"]] = int(row["n"])
        async for product in db.products.find({"_id": {"$in": ids}}):
            if int(product["stock"]) + sold[product["_id"]] != INITIAL_STOCK:
                return False
        return True
    finally:
        await client.close()


async def verify(drill: Drill, http: httpx.AsyncClient) -> set[tuple[str, str]]:
    """The acknowledged writes that cannot be read back (kind, id)."""
    paths = {"post": "/api/v1/posts/{}", "order": "/api/v1/orders/{}", "log": "/api/v1/activity/{}"}
    lost: set[tuple[str, str]] = set()
    semaphore = asyncio.Semaphore(16)

    async def check(kind: str, id_: str, token: str) -> None:
        async with semaphore:
            for _ in range(5):
                try:
                    response = await http.get(
                        paths[kind].format(id_), headers={"Authorization": f"Bearer {token}"}
                    )
                except httpx.HTTPError:
                    await asyncio.sleep(1)
                    continue
                if response.status_code == 200:
                    return
                if response.status_code == 404:
                    break
                await asyncio.sleep(1)
            lost.add((kind, id_))

    await asyncio.gather(*(check(kind, id_, token) for _, kind, id_, token in drill.load.acked))
    return lost


def table(drill: Drill, windows: list[Window], lost: set[tuple[str, str]]) -> tuple[str, bool]:
    lines = [
        f"deadline {DEADLINE:.0f} s (late: slower than {DEADLINE + TOLERANCE:.1f} s); "
        f"recovery bar {RECOVERY_BAR:.0f} s after the store is back",
        f"{'store':<10} {'fault':<7} {'hold':>5} {'flip s':>7} {'recov s':>8} {'requests':>9} "
        f"{'500s':>5} {'late':>5} {'max s':>6} {'acked':>6} {'lost':>5} {'stock':>6}  statuses",
    ]
    ok = True
    for w in windows:
        label = STORE_LABEL[w.store]
        flip = next(
            (t - w.started for t, s, f in drill.load.probes if t >= w.started and label in f), None
        )
        recovered = next(
            (t - w.restored for t, s, _ in drill.load.probes if t >= w.restored and s == 200), None
        )
        inside = [s for s in drill.load.samples if w.started <= s.started < w.ended]
        statuses = collections.Counter(s.status for s in inside)
        late = sum(1 for s in inside if s.latency > DEADLINE + TOLERANCE)
        acked = [a for a in drill.load.acked if w.started <= a[0] < w.ended]
        missing = sum(1 for a in acked if (a[1], a[2]) in lost)
        worst = max((s.latency for s in inside), default=0.0)
        row_ok = (
            statuses[500] == 0
            and late == 0
            and missing == 0
            and bool(w.stock_consistent)
            and recovered is not None
            and recovered <= RECOVERY_BAR
        )
        ok = ok and row_ok
        seen = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
        lines.append(
            f"{w.store:<10} {w.fault:<7} {w.restored - w.started:5.1f} "
            f"{'-' if flip is None else f'{flip:.2f}':>7} "
            f"{'-' if recovered is None else f'{recovered:.2f}':>8} {len(inside):>9} "
            f"{statuses[500]:>5} {late:>5} {worst:6.2f} {len(acked):>6} {missing:>5} "
            f"{'ok' if w.stock_consistent else 'BAD':>6}  {seen}{'' if row_ok else '  <- FAIL'}"
        )
    return "\n".join(lines), ok


async def main_async(args: argparse.Namespace) -> int:
    env = drill_env()
    services = services_module(env)
    stores = args.stores.split(",")
    print(
        f"drill stores under {DRILL_DIR} (ports {STORES.pg}, {STORES.redis}, {STORES.mongo}, "
        f"{STORES.cassandra}); starting them",
        flush=True,
    )
    t0 = time.monotonic()
    services_cmd("up", None, env)
    for cmd in (["db", "upgrade"], ["schema"], ["db", "seed"]):
        run([sys.executable, "-m", "quartet.cli", *cmd], env)
    print(f"stores ready in {time.monotonic() - t0:.0f} s", flush=True)
    port = local_ports.DRILL_APP_PORT
    log = (DRILL_DIR / "app.log").open("wb")
    app = subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
        [sys.executable, "-m", "uvicorn", "quartet.main:app", "--host", HOST, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    drill = Drill(base, env)
    stop_hold, freeze_hold = (6.0, 6.0) if args.short else (20.0, 15.0)
    windows: list[Window] = []
    try:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
            await drill.ready(http)
            await drill.prepare(http)
            tasks = [asyncio.create_task(drill.worker(http, n)) for n in range(WORKERS)]
            tasks.append(asyncio.create_task(drill.prober(http)))
            await asyncio.sleep(5)
            for store in stores:
                for kind, hold in (("stop", stop_hold), ("freeze", freeze_hold)):
                    print(f"{store}: {kind} for {hold:.0f} s", flush=True)
                    windows.append(await fault(drill, services, http, store, kind, hold))
            drill.load.running = False
            await asyncio.gather(*tasks)
            lost = await verify(drill, http)
    finally:
        app.terminate()
        app.wait(timeout=30)
        if not args.keep:
            services_cmd("down", None, env)
    report, ok = table(drill, windows, lost)
    print(report)
    if lost:
        kinds = collections.Counter(kind for kind, _ in lost)
        print("lost by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(
        f"total {time.monotonic() - t0:.0f} s, {len(drill.load.samples)} requests, "
        f"{len(drill.load.acked)} acknowledged writes, {len(lost)} lost"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--short", action="store_true", help="6 s faults (CI); else 20 s stop, 15 s freeze"
    )
    parser.add_argument("--stores", default="postgres,redis,mongo,cassandra")
    parser.add_argument("--keep", action="store_true", help="leave the drill stores running")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
