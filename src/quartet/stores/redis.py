"""Redis over `redis.asyncio`: one client for the process, keys under one prefix.

With REDIS_CLUSTER_NODES the client is redis-py's `RedisCluster` (hiredis, the same timeouts and
per-request deadline). Repositories keep one code path for both: every Lua script and MULTI
touches keys of one hash slot (their keys share a `{...}` hash tag), non-transactional
pipelines fan out per node, and the few operations that must reach every master or a key's own
node check for `RedisCluster` (readiness, the revocation `WAIT`); SCAN goes through
`scan_iter`, which walks every master of a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    ClusterDownError,
    ClusterError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quartet.core.deadline import bounded
from quartet.settings import Settings
from quartet.stores.errors import StoreUnreachableError
from quartet.stores.outages import always_unreachable
from quartet.stores.redis_round_trips import count_round_trips, counting_class

RedisClient = Redis


class DeadlineConnection(Connection):
    """Reads wait at most REDIS_TIMEOUT, and never past the request's store deadline; a send
    on a connection another task closed fails as a lost connection.

    The bound goes through `socket_timeout`, not read_response's `timeout` argument: redis-py
    answers None to an expired explicit timeout and keeps the connection, whose reply is then
    still owed (the next command would read it); an expired socket timeout drops the
    connection, as it must."""

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        configured = self.socket_timeout
        if configured is None or kwargs.get("timeout") is not None or len(args) > 1:
            return await super().read_response(*args, **kwargs)
        self.socket_timeout = bounded(configured)
        try:
            return await super().read_response(*args, **kwargs)
        finally:
            self.socket_timeout = configured

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        """redis-py drops a connection's writer when another task disconnects it in the middle
        of a send (a cluster failover), and the send then fails with an AttributeError: it is a
        lost connection, so it is raised as one (503, and the cluster client's retry)."""
        try:
            await super().send_packed_command(command, check_health)
        except AttributeError as error:
            if self._writer is not None:
                raise
            raise RedisConnectionError("connection closed while sending") from error


def create_client(settings: Settings) -> Redis:
    """A client over one bounded pool; commands time out quickly so a dead Redis answers 503.
    The pool blocks (up to REDIS_TIMEOUT) for a free connection rather than failing a burst
    larger than REDIS_MAX_CONNECTIONS. With REDIS_CLUSTER_NODES, a cluster client instead."""
    if settings.REDIS_CLUSTER_NODES.strip():
        return _create_cluster_client(settings)
    pool = BlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        health_check_interval=0,  # no PING before commands: a dead connection fails the
        # command, and the retry below reconnects once
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        decode_responses=True,
        connection_class=DeadlineConnection,
    )
    count_round_trips(pool)
    client = Redis(connection_pool=pool)
    _waits[client] = _wait(settings)
    return client


def _wait(settings: Settings) -> ReplicationWait:
    return ReplicationWait(settings.REDIS_REVOCATION_REPLICAS, settings.REDIS_REVOCATION_WAIT_MS)


CLUSTER_RETRIES = 3
"""Attempts after the first when a node cannot answer or the cluster is down (a failover): the
client then refreshes the slot map and tries the slot's new master. Each attempt's reads are
held to the request's store deadline, so retries never outlast it."""


def _create_cluster_client(settings: Settings) -> Redis:
    """redis-py's cluster client over the startup nodes, authenticated like REDIS_URL.

    Typed as `Redis` for the repositories: the cluster client answers the same commands, and
    the code that must treat it differently checks for `RedisCluster`. It accepts no
    connection class as an argument, so the deadline-bound, round-trip-counting one is
    installed in the connection settings its nodes are made from, before any node connects."""
    url = parse_url(settings.REDIS_URL)
    addresses = (node.strip().rsplit(":", 1) for node in settings.REDIS_CLUSTER_NODES.split(","))
    nodes = [ClusterNode(host, int(port)) for host, port in addresses]
    client = RedisCluster(
        startup_nodes=nodes,
        require_full_coverage=True,  # a slot without a master fails its commands (503)
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=CLUSTER_RETRIES),
        username=url.get("username"),
        password=url.get("password"),
        ssl=settings.REDIS_URL.startswith("rediss://"),
        socket_timeout=settings.REDIS_TIMEOUT,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        health_check_interval=0,
        decode_responses=True,
    )
    base = client.connection_kwargs["connection_class"]
    counting = counting_class(base if base is not Connection else DeadlineConnection)
    client.connection_kwargs["connection_class"] = counting
    for node in client.startup_nodes:
        node.connection_class = counting  # type: ignore[assignment]  # a Connection subclass
    typed = cast(Redis, client)
    _waits[typed] = _wait(settings)
    return typed


@dataclass(frozen=True)
class ReplicationWait:
    """How many replicas must confirm a write the app promises to keep (a revocation) before
    it is acknowledged, and for how long to wait for them."""

    replicas: int
    timeout_ms: int


_waits: WeakKeyDictionary[Redis, ReplicationWait] = WeakKeyDictionary()


async def queue_replication_wait(client: Redis, pipe: Any, key: str) -> bool:
    """End a non-transactional pipeline with `WAIT` on the connection that carried its writes
    to `key`'s master (a cluster pipeline sends each node's commands on one connection, in
    order); False when the client asks for no replica. Check the answer with
    `check_replicated`. Every write in the pipeline must share `key`'s hash slot."""
    wait = _waits.get(client)
    if wait is None or wait.replicas == 0:
        return False
    target: dict[str, Any] = {}
    if isinstance(client, RedisCluster):
        await client.initialize()  # the slot map (a no-op once known)
        target = {"target_nodes": client.get_node_from_key(key)}
    pipe.execute_command("WAIT", wait.replicas, wait.timeout_ms, **target)
    return True


def check_replicated(client: Redis, confirmed: int) -> None:
    """Fail closed (503) when fewer replicas confirmed than required: the write may not
    survive a failover, so it is not acknowledged (the caller retries)."""
    wait = _waits[client]
    if int(confirmed) < wait.replicas:
        raise StoreUnreachableError("redis")


def pool_usage(client: Redis) -> dict[str, int]:
    """Connections of the client's pool (every node's, on a cluster): in use, idle, and the
    most it may open."""
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes()
        opened = sum(len(node._connections) for node in nodes)
        idle = sum(len(node._free) for node in nodes)
        most = sum(node.max_connections for node in nodes)
        return {"in_use": opened - idle, "idle": idle, "max": most}
    pool = client.connection_pool
    return {
        "in_use": len(getattr(pool, "_in_use_connections", ())),
        "idle": len(getattr(pool, "_available_connections", ())),
        "max": pool.max_connections,
    }


async def ping(client: Redis) -> None:
    """One node answering is enough for a single Redis; a cluster serves only when its state is
    ok and every master answers (a dead master's slots fail until its replica takes over)."""
    if not isinstance(client, RedisCluster):
        await client.ping()
        return
    info = await client.cluster_info()
    if info.get("cluster_state") != "ok":
        raise ClusterDownError(f"cluster_state is {info.get('cluster_state')}")
    await client.ping(target_nodes=RedisCluster.PRIMARIES)


translate_error = always_unreachable("redis")


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterError,  # ClusterDownError, MasterDownError (a failover in progress)
    TryAgainError,  # a multi-key command during a slot migration
    SlotNotCoveredError,  # no master known for the slot (between a failure and a failover)
)
