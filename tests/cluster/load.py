"""A steady mixed load through the cluster's proxy, every answer and acknowledged event kept.

Each worker is one signed-in user looping over: log an event (POST /logs/ with a UUIDv7 of its
own, so the id is known before the answer), read one of its acknowledged events back
(GET /activity/{id}) and GET /auth/me. Nothing is retried by the load itself: a request that
fails counts as failed, whatever the cluster did inside.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx

from quartet.core.ids import uuid7
from tests.cluster.cluster import PROXY

EXPECTED = {"write": 201, "read": 200, "me": 200}
PAUSE = 0.02  # between one worker's requests: a steady load that leaves the machine some CPU


@dataclass(frozen=True)
class Sample:
    started: float
    latency: float
    kind: str
    status: int  # 0: no HTTP answer (connection refused or reset)

    @property
    def failed(self) -> bool:
        return self.status != EXPECTED[self.kind]


@dataclass
class Worker:
    token: str
    acked: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Load:
    workers: int = 6
    samples: list[Sample] = field(default_factory=list)
    acked: list[tuple[float, uuid.UUID]] = field(default_factory=list)
    _running: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(base_url=PROXY, timeout=30)
        users = [await self._sign_up(self._http) for _ in range(self.workers)]
        self._running = True
        self._tasks = [asyncio.create_task(self._work(self._http, user)) for user in users]

    async def stop(self) -> None:
        self._running = False
        await asyncio.gather(*self._tasks)
        if self._http is not None:
            await self._http.aclose()

    def window(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.started < end]

    @staticmethod
    async def _sign_up(http: httpx.AsyncClient) -> Worker:
        account = {"email": f"drill.{uuid.uuid4().hex}@example.com", "password": "drill-pass-1"}
        (await http.post("/api/v1/auth/register", json=account)).raise_for_status()
        login = await http.post("/api/v1/auth/login", json=account)
        login.raise_for_status()
        return Worker(login.json()["access_token"])

    async def _work(self, http: httpx.AsyncClient, user: Worker) -> None:
        headers = {"Authorization": f"Bearer {user.token}"}
        step = 0
        while self._running:
            kind = ("write", "read", "me")[step % 3] if user.acked else "write"
            step += 1
            started = time.monotonic()
            event_id = uuid7()
            try:
                if kind == "write":
                    body = {"event_id": str(event_id), "event_type": "drill.load"}
                    response = await http.post("/api/v1/logs/", json=body, headers=headers)
                elif kind == "read":
                    known = random.choice(user.acked)
                    response = await http.get(f"/api/v1/activity/{known}", headers=headers)
                else:
                    response = await http.get("/api/v1/auth/me", headers=headers)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            self.samples.append(Sample(started, time.monotonic() - started, kind, status))
            if kind == "write" and status == 201:
                user.acked.append(event_id)
                self.acked.append((started, event_id))
            await asyncio.sleep(PAUSE)
