"""Administrative Redis access to the cache namespace: server figures, counting, clearing.

Clearing walks the namespace with SCAN (on a Redis Cluster, every master's keyspace) and removes
each batch with UNLINK (freed in the background); it never uses FLUSHDB/FLUSHALL, so every
other key of the app survives. Server figures on a cluster are those of one node.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from quartet.stores.keyed import KeyedRepository

SCAN_BATCH = 500
_GLOB_SPECIAL = "\\*?[]"


def glob_escape(text: str) -> str:
    """`text` as a literal inside a SCAN MATCH pattern."""
    return "".join("\\" + c if c in _GLOB_SPECIAL else c for c in text)


@dataclass(frozen=True)
class ServerInfo:
    redis_version: str
    uptime_seconds: int
    used_memory_bytes: int
    used_memory_human: str
    keyspace_hits: int
    keyspace_misses: int


class CacheAdminRepository(KeyedRepository):
    """Over the cache's namespace, given whole as the prefix."""

    @property
    def pattern(self) -> str:
        return glob_escape(self.prefix) + "*"

    async def server_info(self) -> ServerInfo:
        info = await self.redis.info()  # server, memory and stats sections in one call
        return ServerInfo(
            redis_version=str(info["redis_version"]),
            uptime_seconds=int(info["uptime_in_seconds"]),
            used_memory_bytes=int(info["used_memory"]),
            used_memory_human=str(info["used_memory_human"]),
            keyspace_hits=int(info["keyspace_hits"]),
            keyspace_misses=int(info["keyspace_misses"]),
        )

    async def count(self) -> int:
        return len([key async for key in self._keys()])

    async def clear(self) -> int:
        """UNLINK every key of the namespace, a SCAN batch at a time; returns how many."""
        deleted, batch = 0, []
        async for key in self._keys():
            batch.append(key)
            if len(batch) == SCAN_BATCH:
                deleted += int(await self.redis.unlink(*batch))
                batch = []
        if batch:
            deleted += int(await self.redis.unlink(*batch))
        return deleted

    def _keys(self) -> AsyncIterator[str]:
        """The namespace's keys by SCAN: of the one Redis, or of every master of a cluster
        (the cluster client's `scan_iter` walks each primary's cursor to its end)."""
        return self.redis.scan_iter(match=self.pattern, count=SCAN_BATCH)

    async def delete(self, key: str) -> bool:
        return bool(await self.redis.unlink(key))
