"""The base of repositories whose data are Redis keys under one prefix (the app's
REDIS_KEY_PREFIX, then the repository's own namespace), like `PostgresRepository` for tables."""

from __future__ import annotations

from typing import ClassVar

from quartet.stores.redis import RedisClient


class KeyedRepository:
    namespace: ClassVar[str] = ""
    """What this repository's keys add to the prefix it is given."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix + self.namespace
        """Every key the repository names starts with it."""
