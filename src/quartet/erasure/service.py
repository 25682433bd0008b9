"""Erasing an account, resumable store by store.

`request` runs inside the caller's transaction: the erasure row is written, and the account
deactivated, before any store is touched, so a crash at any later point leaves a pending
erasure, never a half-deleted account nobody knows about. `run` then cleans each store not yet
done (PostgreSQL, Redis, MongoDB, Cassandra), recording each success in PostgreSQL; a store
that fails is retried later with exponential backoff by `ErasureWorker`, the others are not held
up. When all four are done the row forgets the user id and identifiers and keeps only its own
id, which the anonymised audit rows point to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.auth.tokens import TokenService
from quartet.core.clock import utcnow
from quartet.core.pagination import OffsetPage
from quartet.erasure.models import STORES, AccountErasure
from quartet.erasure.repository import (
    AccountRows,
    CustomerOrders,
    ErasureRepository,
    RedisTraces,
    UserEvents,
)
from quartet.rbac.versions import bump_authz_versions
from quartet.stores.cache import Cache
from quartet.stores.postgres import TransactionRunner
from quartet.stores.registry import Stores
from quartet.users.cache import ProfileCache
from quartet.users.models import User
from quartet.users.repository import UserRepository

logger = logging.getLogger(__name__)

ERROR_MAX = 500
DELETED = "deleted"


class ErasureService:
    def __init__(
        self, stores: Stores, cache: Cache, transactions: TransactionRunner | None = None
    ) -> None:
        """`transactions` pins the PostgreSQL pool (the background worker's); without it each
        call uses the stores' current one."""
        self.stores = stores
        self.cache = cache
        self._transactions = transactions
        settings = stores.settings
        self.retry_base = settings.ERASURE_RETRY_BASE_SECONDS
        self.retry_max = settings.ERASURE_RETRY_MAX_SECONDS

    @property
    def tx(self) -> TransactionRunner:
        return self._transactions or self.stores.transactions

    @staticmethod
    async def begin(
        session: AsyncSession,
        state: AuthStateRepository,
        user: User,
        requested_by: uuid.UUID | None,
    ) -> AccountErasure:
        """In the caller's transaction (the user row locked): the account stops working (every
        token refused from the commit on, login refused) and the erasure is recorded. An
        account already being erased keeps its one request."""
        erasures = ErasureRepository(session)
        existing = await erasures.open_for(user.id)
        if existing is not None:
            return existing
        identifiers = {
            field: str(value)
            for field in ("email", "phone", "username")
            if (value := getattr(user, field)) is not None
        }
        await UserRepository(session).update(
            user, {"is_active": False, "status": DELETED, "deactivated_at": utcnow()}
        )
        await bump_authz_versions(session, state, [user.id])
        return await erasures.create(
            AccountErasure(
                user_id=user.id,
                identifiers=identifiers,
                requested_by=requested_by,
                next_attempt_at=utcnow(),
            )
        )

    async def run(self, erasure_id: uuid.UUID) -> AccountErasure:
        """Clean every store not yet done; a failing store is left for the next attempt."""
        erasure = await self.tx.run(lambda session: ErasureRepository(session).get(erasure_id))
        if erasure.completed_at is not None or erasure.user_id is None:
            return erasure
        user_id = erasure.user_id
        failures: list[str] = []
        for store in erasure.pending:
            try:
                await self._erase(store, erasure, user_id)
            except Exception as error:  # any store failure: retried later, the others go on
                logger.warning("erasure %s: %s not cleaned yet: %r", erasure.id, store, error)
                failures.append(f"{store}: {type(error).__name__}")
                continue
            if store != "postgres":  # the PostgreSQL step records itself in its transaction
                await self.tx.run(partial(self._mark, erasure_id=erasure.id, done=[store]))
        return await self.tx.run(lambda session: self._settle(session, erasure.id, failures))

    async def _erase(self, store: str, erasure: AccountErasure, user_id: uuid.UUID) -> None:
        if store == "postgres":

            async def work(session: AsyncSession) -> None:
                await AccountRows(session).erase(user_id, erasure.id)
                await self._mark(session, erasure.id, ["postgres"])

            await self.tx.run(work)
        elif store == "redis":
            settings = self.stores.settings
            traces = RedisTraces(
                self.stores.redis,
                settings.REDIS_KEY_PREFIX,
                settings.SESSION_TTL_SECONDS,
                TokenService(settings).longest_bearer_seconds,
            )
            cache_keys = [self.cache.key(n) for n in ProfileCache.names(user_id)]
            await traces.erase(user_id, erasure.identifiers, cache_keys)
        elif store == "mongodb":
            await CustomerOrders(self.stores.mongo).erase(user_id)
        else:
            await UserEvents(self.stores.cassandra).erase(user_id)

    @staticmethod
    async def _mark(session: AsyncSession, erasure_id: uuid.UUID, done: Sequence[str]) -> None:
        erasure = await ErasureRepository(session).locked(erasure_id)
        if erasure is not None:
            merged = [store for store in STORES if store in erasure.done or store in done]
            await ErasureRepository(session).update(erasure, {"done": merged})

    async def _settle(
        self, session: AsyncSession, erasure_id: uuid.UUID, failures: Sequence[str]
    ) -> AccountErasure:
        erasures = ErasureRepository(session)
        erasure = await erasures.locked(erasure_id)
        if erasure is None:
            raise LookupError(erasure_id)
        if not erasure.pending:
            return await erasures.update(
                erasure,
                {"completed_at": utcnow(), "user_id": None, "identifiers": {}, "last_error": None},
            )
        attempts = erasure.attempts + 1
        delay = min(self.retry_base * 2 ** (attempts - 1), self.retry_max)
        return await erasures.update(
            erasure,
            {
                "attempts": attempts,
                "last_error": "; ".join(failures)[:ERROR_MAX] or None,
                "next_attempt_at": utcnow() + timedelta(seconds=delay),
            },
        )

    async def claim_due(self, limit: int) -> list[uuid.UUID]:
        now = utcnow()
        lease = now + timedelta(seconds=self.retry_max)
        return await self.tx.run(
            lambda session: ErasureRepository(session).claim_due(now, lease, limit)
        )

    async def pending(
        self, db: AsyncSession, limit: int, offset: int
    ) -> OffsetPage[AccountErasure]:
        return await ErasureRepository(db).pending(limit, offset)
