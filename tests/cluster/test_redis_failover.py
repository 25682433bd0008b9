"""Drill: a Redis Cluster master dies under steady mixed load (logins, /auth/me, logouts).

The app runs against the local cluster (`scripts/redis_cluster.py`, cluster-node-timeout 2 s),
revocations confirmed by a replica (REDIS_REVOCATION_REPLICAS=1) and idle logout on, so a lost
activity session would show as a 401. One master is killed with SIGKILL; once its replica is
promoted, the old process is started again (what a supervisor does) and rejoins as a replica.

Promised and checked: every request answers 200/204 or 503 `store_unavailable`, never a 500,
never later than the store deadline; the 503s stop by themselves within the failover window;
no revocation the app acknowledged comes back, and no login acknowledged before the failure
(its writes long replicated) loses its session. Printed: the drill row.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from scripts import redis_cluster

from tests.accounts import Account, bearer, login, register
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.cluster.conftest import ROWS, DrillRow

pytestmark = pytest.mark.cluster

STORE_DEADLINE = 3.0
WORKERS = 6
ACCOUNTS = 18
WARM_SECONDS = 4.0
AFTER_RECOVERY_SECONDS = 5.0
FAILOVER_WINDOW = 15.0
"""The most the 503s may last: node timeout (2 s) + election + the client's slot-map refresh,
with room for a loaded two-core machine."""
SETTLED = 1.0
"""Writes acknowledged this long before the failure are on the replica (replication is
continuous and its lag here is sub-millisecond); later ones may be lost by design."""


@dataclass
class Outcome:
    started: float
    kind: str
    status: int
    seconds: float
    error: str | None = None
    login_at: float | None = None
    """For /auth/me: when the token's login was acknowledged."""


@dataclass
class Ledger:
    outcomes: list[Outcome] = field(default_factory=list)
    live: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """Tokens of acknowledged logins not logged out since, with when they were acknowledged."""
    revoked: list[dict[str, Any]] = field(default_factory=list)
    """Tokens whose logout the app acknowledged (204)."""
    redis_ready: list[tuple[float, bool]] = field(default_factory=list)
    """What each readiness probe said of Redis, and when it was asked."""


async def _call(
    ledger: Ledger, kind: str, send: Any, login_at: float | None = None
) -> httpx.Response | None:
    started = time.monotonic()
    try:
        response: httpx.Response = await send()
    except Exception as crash:  # a hang or a crash of the app is a drill failure
        took = time.monotonic() - started
        ledger.outcomes.append(Outcome(started, kind, 0, took, repr(crash), login_at))
        return None
    code = response.json().get("error") if response.status_code >= 400 else None
    took = time.monotonic() - started
    ledger.outcomes.append(Outcome(started, kind, response.status_code, took, code, login_at))
    return response


async def _worker(
    http: httpx.AsyncClient, api: str, accounts: list[Account], ledger: Ledger, stop: asyncio.Event
) -> None:
    rng = random.Random()
    mine: list[tuple[float, dict[str, Any]]] = []
    while not stop.is_set():
        account = rng.choice(accounts)
        body = {"email": account.email, "password": account.password}
        response = await _call(
            ledger, "login", lambda b=body: http.post(f"{api}/auth/login", json=b)
        )
        if response is not None and response.status_code == 200:
            login = (time.monotonic(), response.json())
            ledger.live.append(login)
            mine.append(login)
        for login_at, tokens in mine[-3:]:
            await _call(
                ledger,
                "me",
                lambda t=tokens: http.get(f"{api}/auth/me", headers=bearer(t["access_token"])),
                login_at,
            )
        if len(mine) > 3:
            _, tokens = mine.pop(0)
            ledger.live[:] = [(at, t) for at, t in ledger.live if t is not tokens]
            response = await _call(
                ledger,
                "logout",
                lambda t=tokens: http.post(f"{api}/auth/logout", headers=bearer(t["access_token"])),
            )
            if response is not None and response.status_code == 204:
                ledger.revoked.append(tokens)


async def _probe(http: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event) -> None:
    """Readiness, as a load balancer asks it, every quarter second."""
    while not stop.is_set():
        asked = time.monotonic()
        body = (await http.get("/health/readiness")).json()
        ledger.redis_ready.append((asked, body["stores"]["redis"]["status"] == "ok"))
        await asyncio.sleep(0.25)


async def _promoted(replica: int) -> None:
    while True:
        rows = await asyncio.to_thread(redis_cluster.status)
        roles = {row["port"]: row["role"] for row in rows}
        if roles.get(replica) == "master":
            return
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("app")  # the run's database, migrated and seeded
async def test_a_master_fails_under_load_and_the_api_recovers_by_itself(api: str) -> None:
    await asyncio.to_thread(redis_cluster.up)
    async with dedicated_app(
        STORE_DEADLINE_SECONDS=STORE_DEADLINE, REDIS_TIMEOUT=1.0, SESSION_IDLE_LOGOUT=True
    ) as app:
        ledger, stop = Ledger(), asyncio.Event()
        async with http_for(app) as setup:
            accounts = [await register(setup, api) for _ in range(ACCOUNTS)]
            for account in accounts:  # sessions that stay open throughout
                ledger.live.append((time.monotonic(), await login(setup, api, account)))
        clients = [http_for(app, peer=f"10.9.0.{n + 1}") for n in range(WORKERS)]
        https = [await client.__aenter__() for client in clients]
        workers = [
            asyncio.create_task(_worker(http, api, accounts, ledger, stop)) for http in https
        ]
        workers.append(asyncio.create_task(_probe(https[0], ledger, stop)))
        try:
            await asyncio.sleep(WARM_SECONDS)
            victim = redis_cluster.masters()[0]
            replica = redis_cluster.replica_of(victim)
            assert replica is not None
            failed_at = time.monotonic()
            redis_cluster.fail_master(victim)
            await asyncio.wait_for(_promoted(replica), FAILOVER_WINDOW)
            promoted_after = time.monotonic() - failed_at
            await asyncio.to_thread(redis_cluster.restart, victim)
            rejoined_after = time.monotonic() - failed_at
            await asyncio.sleep(AFTER_RECOVERY_SECONDS)
        finally:
            stop.set()
            await asyncio.gather(*workers)
            for client in clients:
                await client.__aexit__(None, None, None)

        outcomes = ledger.outcomes
        unsettled = failed_at - SETTLED
        # A session written in the last moment before the crash may not have reached the
        # replica (asynchronous replication): its token then meets idle logout (401).
        unconfirmed = [
            o
            for o in outcomes
            if o.kind == "me" and o.status == 401 and o.login_at is not None
            if o.login_at >= unsettled
        ]
        unexpected = [
            o for o in outcomes if o.status not in (200, 204, 503) and o not in unconfirmed
        ]
        assert not unexpected, unexpected[:5]
        assert all(o.error == "store_unavailable" for o in outcomes if o.status == 503)
        slowest = max(o.seconds for o in outcomes)
        slow = sorted(outcomes, key=lambda o: -o.seconds)[:8]
        assert slowest <= STORE_DEADLINE + 0.5, [
            (o.kind, o.status, round(o.started - failed_at, 2), round(o.seconds, 2)) for o in slow
        ]
        failures = [o for o in outcomes if o.status == 503]
        recovered_after = max((o.started + o.seconds for o in failures), default=failed_at)
        recovered_after -= failed_at
        assert recovered_after <= FAILOVER_WINDOW, recovered_after
        assert all(o.started + o.seconds >= failed_at for o in failures)  # none before it
        assert [o for o in outcomes if o.started > failed_at + recovered_after]  # served again
        not_ready = [at - failed_at for at, ready in ledger.redis_ready if not ready]
        assert not_ready  # the failure made the instance unready...
        assert min(not_ready) > -SETTLED  # ...and only the failure (a probe may straddle it)
        assert ledger.redis_ready[-1][1]  # ready again by itself

        async with http_for(app, peer="10.9.1.1") as check:
            revived = [
                t
                for t in ledger.revoked
                if (
                    await check.get(f"{api}/auth/me", headers=bearer(t["access_token"]))
                ).status_code
                != 401
            ]
            settled = [t for at, t in ledger.live if at < unsettled]
            lost = [
                t
                for t in settled
                if (
                    await check.get(f"{api}/auth/me", headers=bearer(t["access_token"]))
                ).status_code
                != 200
            ]
        assert not revived, f"{len(revived)} acknowledged revocations came back"
        assert not lost, f"{len(lost)} acknowledged sessions lost"

        by_kind = {
            kind: sum(1 for o in failures if o.kind == kind) for kind in ("login", "me", "logout")
        }
        reads_back = max(
            (o.started + o.seconds - failed_at for o in failures if o.kind != "logout"),
            default=0.0,
        )
        ROWS.append(
            DrillRow(
                stopped=f"redis master {victim}",
                requests=len(outcomes),
                failed=len(failures),
                recover_seconds=recovered_after,
                acked=len(ledger.revoked) + len(settled),
                lost=0,
                note=(
                    f"the failures are the promised 503s (login {by_kind['login']}, "
                    f"me {by_kind['me']}, logout {by_kind['logout']}), 0 500s or hangs, "
                    f"slowest {slowest:.2f} s; replica promoted {promoted_after:.1f} s, logins "
                    f"and reads back {reads_back:.1f} s, revocations back once the old master "
                    f"rejoined ({rejoined_after:.1f} s); acked = {len(ledger.revoked)} "
                    f"revocations + {len(settled)} sessions; readiness down "
                    f"{min(not_ready):.1f}-{max(not_ready):.1f} s"
                ),
            )
        )
