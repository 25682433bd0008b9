"""Redis over `redis.asyncio`: one connection pool for the process, keys under one prefix."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quartet.core.deadline import bounded
from quartet.settings import Settings
from quartet.stores.errors import StoreUnreachableError
from quartet.stores.redis_round_trips import count_round_trips

RedisClient = Redis


class DeadlineConnection(Connection):
    """Reads wait at most REDIS_TIMEOUT, and never past the request's store deadline.

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


def create_client(settings: Settings) -> Redis:
    """A client over one bounded pool; commands time out quickly so a dead Redis answers 503.
    The pool blocks (up to REDIS_TIMEOUT) for a free connection rather than failing a burst
    larger than REDIS_MAX_CONNECTIONS."""
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
    return Redis(connection_pool=pool)


def pool_usage(client: Redis) -> dict[str, int]:
    """Connections of the client's pool: in use, idle, and the most it may open."""
    pool = client.connection_pool
    return {
        "in_use": len(getattr(pool, "_in_use_connections", ())),
        "idle": len(getattr(pool, "_available_connections", ())),
        "max": pool.max_connections,
    }


async def ping(client: Redis) -> None:
    await client.ping()


def translate_error(_: Exception) -> StoreUnreachableError:
    return StoreUnreachableError("redis")


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
