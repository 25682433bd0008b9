from __future__ import annotations

from pydantic import BaseModel, Field


class ProcessCounters(BaseModel):
    hits: int
    misses: int
    errors: int
    failing: bool = Field(description="the last cache operation of this process failed")


class CacheStatus(BaseModel):
    redis_version: str
    uptime_seconds: int
    used_memory_bytes: int
    used_memory_human: str
    keyspace_hits: int = Field(description="server-wide, every key")
    keyspace_misses: int = Field(description="server-wide, every key")
    namespace: str
    keys: int = Field(description="keys in the cache namespace")
    this_process: ProcessCounters


class ClearedOut(BaseModel):
    deleted: int
