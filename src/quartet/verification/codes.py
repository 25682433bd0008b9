"""One-time codes in Redis: the repository (hashes, tries, cooldowns, send budgets, proofs).

Keys, under REDIS_KEY_PREFIX `otp:`: `code:<purpose>:<id>` (a hash: the code's HMAC, its wrong
tries, channel and account; expires with the code), `cooldown:<purpose>:{<id>}`,
`sends:id:{<id>}` and `sends:client:<client>` (hourly send budgets),
`proof:<purpose>:<sha256(proof)>`. `<id>` is the SHA-256 of the normalised identifier, so no
address or number appears in a key name; `{...}` is a Redis Cluster hash tag (a script's keys
share one slot). Every multi-step change is a Lua script (atomic); scripts go as EVAL like the
session scripts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from quartet.stores.keyed import KeyedRepository

# KEYS: cooldown, identifier budget (one hash slot: `{id}` tags both). ARGV: cooldown s,
# identifier max, window s. Returns {verdict, seconds}: ok (both taken), or why not and when.
_RESERVE_IDENTIFIER = """
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then return {'cooldown', ttl} end
local by_id = tonumber(redis.call('GET', KEYS[2]) or '0')
if by_id >= tonumber(ARGV[2]) then return {'identifier_limit', redis.call('TTL', KEYS[2])} end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {'ok', 0}
"""

# KEYS: client budget. ARGV: client max, window s. Returns {verdict, seconds}.
_RESERVE_CLIENT = """
local by_client = tonumber(redis.call('GET', KEYS[1]) or '0')
if by_client >= tonumber(ARGV[1]) then return {'client_limit', redis.call('TTL', KEYS[1])} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {'ok', 0}
"""

# KEYS: cooldown, identifier budget. Gives back what _RESERVE_IDENTIFIER took.
_RELEASE_IDENTIFIER = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
"""

# KEYS: code hash. ARGV: expected digest. Deletes the code only if it is still this one.
_CONSUME = """
if redis.call('HGET', KEYS[1], 'digest') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# KEYS: code hash. ARGV: max tries. Counts a wrong try; burns the code at the limit.
# Returns the tries so far, or -1 when there was no code.
_FAIL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return tries
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class StoredCode:
    digest: str
    tries: int
    channel: str
    user_id: str


class CodeRepository(KeyedRepository):
    namespace = "otp:"

    def _code(self, purpose: str, identifier: str) -> str:
        return f"{self.prefix}code:{purpose}:{digest(identifier)}"

    def _cooldown(self, purpose: str, identifier: str) -> str:
        return f"{self.prefix}cooldown:{purpose}:{{{digest(identifier)}}}"

    def _sends_by_id(self, identifier: str) -> str:
        return f"{self.prefix}sends:id:{{{digest(identifier)}}}"

    def identifier_keys(self, identifier: str, purposes: Sequence[str]) -> list[str]:
        """Every key that names `identifier` (codes, cooldowns, its send budget): what erasing
        an account deletes. Proofs are keyed by the proof alone and expire on their own."""
        per_purpose = [
            key
            for p in purposes
            for key in (self._code(p, identifier), self._cooldown(p, identifier))
        ]
        return [*per_purpose, self._sends_by_id(identifier)]

    async def reserve_send(
        self,
        purpose: str,
        identifier: str,
        client: str,
        *,
        cooldown: int,
        per_identifier: int,
        per_client: int,
        window: int = 3600,
    ) -> tuple[str, int]:
        """Take one send from the cooldown and both hourly budgets, or say which one refused.

        The identifier's keys and the client's live in different Redis Cluster slots, so this
        is two scripts: the identifier's part first (cooldown, then its budget), then the
        client's; a client refusal gives the identifier's part back. Concurrent sends never
        exceed a budget; one racing a refused send may see its cooldown a moment too long."""
        identifier_keys = self._cooldown(purpose, identifier), self._sends_by_id(identifier)
        verdict, seconds = await self.redis.eval(
            _RESERVE_IDENTIFIER, 2, *identifier_keys, cooldown, per_identifier, window
        )
        if verdict != "ok":
            return str(verdict), int(seconds)
        client_key = f"{self.prefix}sends:client:{digest(client)}"
        verdict, seconds = await self.redis.eval(_RESERVE_CLIENT, 1, client_key, per_client, window)
        if verdict != "ok":
            await self.redis.eval(_RELEASE_IDENTIFIER, 2, *identifier_keys)
        return str(verdict), int(seconds)

    async def store(
        self,
        purpose: str,
        identifier: str,
        code_digest: str,
        *,
        channel: str,
        user_id: str,
        ttl: int,
    ) -> None:
        """A new code replaces the previous one (and its tries) for this purpose and identifier."""
        key = self._code(purpose, identifier)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.execute_command("DEL", key)  # a cluster pipeline does not queue .delete()
            pipe.hset(
                key,
                mapping={"digest": code_digest, "tries": 0, "channel": channel, "user_id": user_id},
            )
            pipe.expire(key, ttl)
            await pipe.execute()

    async def load(self, purpose: str, identifier: str) -> StoredCode | None:
        found = cast(dict[str, str], await self.redis.hgetall(self._code(purpose, identifier)))
        if "digest" not in found:
            return None
        return StoredCode(
            found["digest"], int(found.get("tries", 0)), found["channel"], found["user_id"]
        )

    async def consume(self, purpose: str, identifier: str, code_digest: str) -> bool:
        """Delete the code if it is still the one that matched (two racing correct answers:
        one wins)."""
        return bool(
            await self.redis.eval(_CONSUME, 1, self._code(purpose, identifier), code_digest)
        )

    async def count_failure(self, purpose: str, identifier: str, max_tries: int) -> int:
        return int(await self.redis.eval(_FAIL, 1, self._code(purpose, identifier), max_tries))

    def _proof(self, purpose: str, proof: str) -> str:
        return f"{self.prefix}proof:{purpose}:{digest(proof)}"

    async def save_proof(self, purpose: str, proof: str, data: dict[str, Any], ttl: int) -> None:
        await self.redis.set(self._proof(purpose, proof), json.dumps(data), ex=ttl)

    async def read_proof(self, purpose: str, proof: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self._proof(purpose, proof))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    async def take_proof(self, purpose: str, proof: str) -> bool:
        """Delete the proof; True for the one caller that did (single use)."""
        return bool(await self.redis.delete(self._proof(purpose, proof)))
