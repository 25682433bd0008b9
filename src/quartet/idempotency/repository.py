"""Idempotency records in Redis: one key per user, route and client key.

A record is first a lock (`running`, with the request's fingerprint, for
IDEMPOTENCY_LOCK_SECONDS, so a crashed request frees its key), then the stored answer (`done`,
for IDEMPOTENCY_TTL_SECONDS). Taking the lock is one `SET NX`, so two concurrent first
requests cannot both run.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: bytes
    content_type: str | None
    location: str | None


@dataclass(frozen=True)
class Claim:
    """What the store says about a key: ours now, someone's still running, another body's, or
    answered already."""

    state: Literal["reserved", "running", "mismatch", "done"]
    answer: StoredAnswer | None = None


class IdempotencyRepository:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}idempotency:"

    def key(self, user_id: uuid.UUID, route: str, client_key: str) -> str:
        digest = hashlib.sha256(f"{route}\n{client_key}".encode()).hexdigest()
        return f"{self.prefix}{user_id}:{digest}"

    async def claim(self, key: str, fingerprint: str, lock_seconds: int) -> Claim:
        running = json.dumps({"state": "running", "fingerprint": fingerprint})
        if await self.redis.set(key, running, nx=True, ex=lock_seconds):
            return Claim("reserved")
        raw = await self.redis.get(key)
        if raw is None:  # expired between the two calls: try once more
            taken = await self.redis.set(key, running, nx=True, ex=lock_seconds)
            return Claim("reserved") if taken else Claim("running")
        record = json.loads(raw)
        if record["fingerprint"] != fingerprint:
            return Claim("mismatch")
        if record["state"] == "running":
            return Claim("running")
        answer = StoredAnswer(
            record["status"],
            bytes.fromhex(record["body"]),
            record.get("content_type"),
            record.get("location"),
        )
        return Claim("done", answer)

    async def complete(
        self, key: str, fingerprint: str, answer: StoredAnswer, ttl_seconds: int
    ) -> None:
        record = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": answer.status,
            "body": answer.body.hex(),
            "content_type": answer.content_type,
            "location": answer.location,
        }
        await self.redis.set(key, json.dumps(record), ex=ttl_seconds)

    async def release(self, key: str) -> None:
        await self.redis.delete(key)
