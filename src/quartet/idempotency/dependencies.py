"""`Idempotent`: the route dependency that claims an Idempotency-Key before the work is done.

Runs after authentication (keys are per user) and before the endpoint: a repeat of an answered
request is replayed (`IdempotentReplay`, rendered by `install_idempotency`'s handler) without
running the endpoint; a repeat while the first is still running is 409; the same key with
another body is 422. A claimed request leaves its `Reservation` in the ASGI scope, where
`IdempotencyMiddleware` stores the answer (2xx) or frees the key (anything else).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from quartet.auth.dependencies import CurrentUser
from quartet.idempotency.errors import IdempotencyInProgressError, IdempotencyKeyReusedError
from quartet.idempotency.repository import IdempotencyRepository, StoredAnswer
from quartet.settings import Settings
from quartet.stores.dependencies import StoresDep

SCOPE_KEY = "quartet.idempotency"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


class IdempotentReplay(Exception):
    def __init__(self, answer: StoredAnswer) -> None:
        self.answer = answer


@dataclass(frozen=True)
class Reservation:
    repository: IdempotencyRepository
    key: str
    fingerprint: str
    settings: Settings


def fingerprint(method: str, route: str, body: bytes) -> str:
    """The request as the key binds it: method, route and body (JSON compared by value)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{method} {route}\n".encode() + canonical).hexdigest()


async def claim_idempotency_key(
    request: Request,
    user: CurrentUser,
    stores: StoresDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            pattern=KEY_PATTERN,
            description="any client-chosen string (a UUID is customary): a retry with the same "
            "key and body answers what the first request did, for 24 hours",
        ),
    ] = None,
) -> None:
    if idempotency_key is None:
        return
    settings = stores.settings
    route = f"{request.method} {request.url.path}"
    repository = IdempotencyRepository(stores.redis, settings.REDIS_KEY_PREFIX)
    key = repository.key(user.user_id, route, idempotency_key)
    print_ = fingerprint(request.method, route, await request.body())
    claim = await repository.claim(key, print_, settings.IDEMPOTENCY_LOCK_SECONDS)
    if claim.state == "done" and claim.answer is not None:
        raise IdempotentReplay(claim.answer)
    if claim.state == "running":
        raise IdempotencyInProgressError()
    if claim.state == "mismatch":
        raise IdempotencyKeyReusedError()
    request.scope[SCOPE_KEY] = Reservation(repository, key, print_, settings)


Idempotent = Depends(claim_idempotency_key)
"""`dependencies=[Idempotent]` on a creating route makes it honour `Idempotency-Key`."""

IDEMPOTENCY_ERRORS = (IdempotencyInProgressError, IdempotencyKeyReusedError)
"""For the route's `responses=`: what `Idempotent` may answer."""
