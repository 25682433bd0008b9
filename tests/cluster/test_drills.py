"""Node-loss drills under a steady mixed load through the proxy of `make cluster-up`.

- One Cassandra node stopped (SIGTERM, as an operator restarts one), held down, started again:
  no request fails (reads and writes at LOCAL_QUORUM need two of three replicas, and the driver
  retries an idempotent statement on another node when its coordinator goes away), no
  acknowledged event is lost (read back at LOCAL_QUORUM), and once the node is back and repaired
  every event written while it was down is on it too (read from it alone at ONE).
- One API instance stopped and started again: nginx passes the requests it refuses to the
  others, uvicorn finishes the ones it holds, so no request fails.
"""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from collections.abc import Iterable

import httpx
import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import WhiteListRoundRobinPolicy

from quartet import local_ports
from quartet.stores.cassandra import CassandraStore
from tests.cluster.cluster import PROXY, api_instances, cluster_settings, ring
from tests.cluster.conftest import ROWS, DrillRow
from tests.cluster.load import Load

pytestmark = pytest.mark.cluster

WARM_UP = 5.0
CASSANDRA_HOLD = 15.0
API_HOLD = 10.0
AFTER = 5.0
NODE = 3
INSTANCE = 2
READY_WAIT = 120.0
API_PORTS = local_ports.CLUSTER_API_PORTS
SELECT_EVENT = "SELECT event_id FROM {ks}.events_by_id WHERE event_id = ?"


@pytest.fixture(autouse=True)
async def _cluster_ready() -> None:
    """Every instance behind the proxy ready (the shared single stores may be restarting)."""
    deadline = time.monotonic() + READY_WAIT
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            try:
                answers = [(await http.get(f"{PROXY}/health/readiness")) for _ in API_PORTS]
            except httpx.HTTPError as error:
                pytest.fail(f"the cluster's proxy does not answer ({error}): run `make cluster-up`")
            if all(answer.status_code == 200 for answer in answers):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the cluster is not ready: {[a.text for a in answers]}")
            await asyncio.sleep(1)


async def missing_at_quorum(event_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The events the ring cannot return at the app's consistency (LOCAL_QUORUM)."""
    settings = cluster_settings()
    store = CassandraStore(settings)
    query = SELECT_EVENT.format(ks=settings.CASSANDRA_KEYSPACE)
    semaphore = asyncio.Semaphore(32)

    async def found(event_id: uuid.UUID) -> bool:
        async with semaphore:
            return bool((await store.execute(query, (event_id,))).rows)

    try:
        ids = list(event_ids)
        present = await asyncio.gather(*(found(event_id) for event_id in ids))
    finally:
        await store.close()
    return [event_id for event_id, ok in zip(ids, present, strict=True) if not ok]


def missing_on_node(node: int, event_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The events node `node` alone cannot return (consistency ONE, only it asked)."""
    settings = cluster_settings()
    address = local_ports.CASSANDRA_RING_HOSTS[node - 1]
    only_it = ExecutionProfile(
        load_balancing_policy=WhiteListRoundRobinPolicy([address]),
        consistency_level=ConsistencyLevel.ONE,
    )
    cluster = Cluster(
        [address],
        port=settings.CASSANDRA_PORT,
        execution_profiles={EXEC_PROFILE_DEFAULT: only_it},
        protocol_version=5,
    )
    try:
        session = cluster.connect()
        statement = session.prepare(SELECT_EVENT.format(ks=settings.CASSANDRA_KEYSPACE))
        return [e for e in event_ids if not session.execute(statement, (e,)).one()]
    finally:
        cluster.shutdown()


def statuses(samples: Iterable[object]) -> str:
    counts = collections.Counter(getattr(s, "status", None) for s in samples)
    return " ".join(f"{code}:{n}" for code, n in sorted(counts.items()))


async def test_losing_a_cassandra_node_fails_nothing_and_loses_no_event() -> None:
    load = Load()
    await load.start()
    stopped = False
    try:
        await asyncio.sleep(WARM_UP)
        t_stop = time.monotonic()
        await ring("stop", str(NODE))
        stopped = True
        await asyncio.sleep(CASSANDRA_HOLD)
        t_restart = time.monotonic()
        await ring("start", str(NODE))  # returns once another node sees it Up/Normal
        stopped = False
        rejoined = time.monotonic() - t_restart
        await asyncio.sleep(AFTER)
        t_end = time.monotonic()
    finally:
        await load.stop()
        if stopped:
            await ring("start", str(NODE))
    t_repair = time.monotonic()
    await ring("repair", str(NODE), cluster_settings().CASSANDRA_KEYSPACE)
    repair_seconds = time.monotonic() - t_repair

    inside = load.window(t_stop, t_end)
    failed = [s for s in inside if s.failed]
    while_down = [event_id for t, event_id in load.acked if t_stop <= t < t_restart]
    lost = await missing_at_quorum(event_id for _, event_id in load.acked)
    absent = await asyncio.to_thread(missing_on_node, NODE, while_down)
    ROWS.append(
        DrillRow(
            f"cassandra node {NODE} ({CASSANDRA_HOLD:.0f} s)",
            len(inside),
            len(failed),
            rejoined,
            len(load.acked),
            len(lost),
            f"rejoin to UN {rejoined:.0f} s, repair {repair_seconds:.0f} s; "
            f"{len(while_down)} written while down, {len(absent)} missing on it after repair",
        )
    )
    assert while_down, "no event was acknowledged while the node was down"
    assert not failed, statuses(failed)
    assert not lost, f"{len(lost)} acknowledged events not found at LOCAL_QUORUM"
    assert not absent, f"{len(absent)} events written while node {NODE} was down are not on it"


async def test_losing_an_api_instance_fails_no_request() -> None:
    load = Load()
    await load.start()
    stopped = False
    try:
        await asyncio.sleep(WARM_UP)
        t_stop = time.monotonic()
        await api_instances("stop-api", str(INSTANCE))
        stopped = True
        await asyncio.sleep(API_HOLD)
        t_restart = time.monotonic()
        await api_instances("start-api", str(INSTANCE))  # returns once it reports ready
        stopped = False
        back = time.monotonic() - t_restart
        await asyncio.sleep(AFTER)
        t_end = time.monotonic()
    finally:
        await load.stop()
        if stopped:
            await api_instances("start-api", str(INSTANCE))
    inside = load.window(t_stop, t_end)
    failed = [s for s in inside if s.failed]
    acked = [event_id for t, event_id in load.acked if t_stop <= t < t_end]
    lost = await missing_at_quorum(acked)
    ROWS.append(
        DrillRow(
            f"api instance {INSTANCE} ({API_HOLD:.0f} s)",
            len(inside),
            len(failed),
            back,
            len(acked),
            len(lost),
            f"ready again {back:.0f} s after its restart; statuses {statuses(inside)}",
        )
    )
    assert inside, "the load made no requests while the instance was down"
    assert not failed, statuses(failed)
    assert not lost
