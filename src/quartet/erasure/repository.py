"""The only store access of account erasure, one class per store. Every `erase` is idempotent:
run twice, or after a failure half-way, it leaves the same clean state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.audit.models import AuditLog
from quartet.auth.state_repository import AuthStateRepository
from quartet.core.pagination import OffsetPage
from quartet.erasure.models import AccountErasure
from quartet.events.repository import (
    DAY_BUCKET,
    DELETE_CONCURRENCY,
    DELETE_USER_PARTITION,
    USER,
    EventRepository,
)
from quartet.notifications.models import OutboxMessage
from quartet.sessions.repository import ActivitySessionRepository
from quartet.shop.repository import OrderRepository
from quartet.stores.cassandra import CassandraStore
from quartet.stores.mongo import MongoDatabase
from quartet.stores.redis import RedisClient
from quartet.stores.sql import PostgresRepository
from quartet.users.models import User
from quartet.verification.codes import CodeRepository
from quartet.verification.schemas import CodePurpose

ANONYMOUS_CUSTOMER_ID = uuid.UUID(int=0)
ANONYMOUS_CUSTOMER_NAME = "deleted account"

SELECT_ALL_DAYS = "SELECT day FROM {ks}.event_days WHERE bucket = ?"
SELECT_USER_PARTITION = (
    "SELECT key FROM {ks}.event_partitions WHERE day = ? AND kind = ? AND key = ?"
)
SELECT_USER_ROWS = (
    "SELECT event_id, event_type, timestamp FROM {ks}.events_by_user WHERE user_id = ? AND day = ?"
)
DELETE_TYPE_ROW = (
    "DELETE FROM {ks}.events_by_type"
    " WHERE event_type = ? AND day = ? AND timestamp = ? AND event_id = ?"
)
DELETE_PARTITION_ROW = "DELETE FROM {ks}.event_partitions WHERE day = ? AND kind = ? AND key = ?"
DAY_LOOKUP_CONCURRENCY = 32


class ErasureRepository(PostgresRepository[AccountErasure]):
    model = AccountErasure

    async def open_for(self, user_id: uuid.UUID) -> AccountErasure | None:
        statement = select(AccountErasure).where(
            col(AccountErasure.user_id) == user_id, col(AccountErasure.completed_at).is_(None)
        )
        return (await self.session.scalars(statement)).first()

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[uuid.UUID]:
        """Pending erasures due by `now`, leased until `lease_until` (another worker skips them
        meanwhile; a crashed run is picked up again when the lease ends)."""
        due = (
            select(col(AccountErasure.id))
            .where(
                col(AccountErasure.completed_at).is_(None),
                col(AccountErasure.next_attempt_at) <= now,
            )
            .order_by(col(AccountErasure.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self.session.scalars(due)).all())
        if ids:
            await self.session.execute(
                update(AccountErasure)
                .where(col(AccountErasure.id).in_(ids))
                .values(next_attempt_at=lease_until)
                .execution_options(synchronize_session=False)
            )
        return ids

    async def pending(self, limit: int, offset: int) -> OffsetPage[AccountErasure]:
        return await self.offset_page(
            where=[col(AccountErasure.completed_at).is_(None)],
            order_by=[col(AccountErasure.created_at), col(AccountErasure.id)],
            limit=limit,
            offset=offset,
        )

    async def locked(self, erasure_id: uuid.UUID) -> AccountErasure | None:
        statement = (
            select(AccountErasure)
            .where(col(AccountErasure.id) == erasure_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).first()


class AccountRows:
    """PostgreSQL: the user row goes, and with it (ON DELETE CASCADE) sessions, refresh and
    account tokens, identities, posts and their likes, likes given, group memberships and
    media rows. Audit rows stay with `user_id` null and the erasure id as their reference; the
    outbox rows addressed to the account go (they hold its email or phone)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def erase(self, user_id: uuid.UUID, erasure_id: uuid.UUID) -> None:
        marker = func.jsonb_build_object("erasure_id", str(erasure_id))
        await self.session.execute(
            update(AuditLog)
            .where(col(AuditLog.user_id) == user_id)
            .values(user_id=None, data=col(AuditLog.data).op("||")(marker))
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            delete(OutboxMessage).where(col(OutboxMessage.user_id) == user_id)
        )
        await self.session.execute(delete(User).where(col(User.id) == user_id))


class RedisTraces:
    """Redis: the activity session, cached profiles, one-time codes and lockout counters.
    Revocations and the authorisation version stay: they expire on their own and keep refusing
    the account's old tokens until then."""

    def __init__(
        self, redis: RedisClient, key_prefix: str, session_ttl: int, token_life: int
    ) -> None:
        self.redis = redis
        self.token_life = token_life
        self.sessions = ActivitySessionRepository(redis, key_prefix, session_ttl)
        self.codes = CodeRepository(redis, key_prefix)
        self.state = AuthStateRepository(redis, key_prefix)

    async def erase(
        self, user_id: uuid.UUID, identifiers: dict[str, str], cache_keys: Sequence[str]
    ) -> None:
        purposes = [p.value for p in CodePurpose]
        keys = [
            self.sessions.key(user_id),
            *cache_keys,
            *self.state.lockout_keys(f"user:{user_id}"),
        ]
        for field, value in identifiers.items():
            keys += self.state.lockout_keys(f"{field}:{value.casefold()}")
            if field in ("email", "phone"):
                keys += self.codes.identifier_keys(value, purposes)
        await self.redis.unlink(*keys)
        await self.state.retire_user(user_id, self.token_life)


class CustomerOrders:
    """MongoDB: orders are business records; they stay, naming an anonymous customer."""

    def __init__(self, db: MongoDatabase) -> None:
        self.orders = OrderRepository(db)

    async def erase(self, user_id: uuid.UUID) -> int:
        result = await self.orders.collection.update_many(
            {"customer_id": user_id},
            {
                "$set": {
                    "customer_id": ANONYMOUS_CUSTOMER_ID,
                    "customer_name": ANONYMOUS_CUSTOMER_NAME,
                }
            },
        )
        return int(result.modified_count)

    async def count(self, user_id: uuid.UUID) -> int:
        return int(await self.orders.collection.count_documents({"customer_id": user_id}))


class UserEvents:
    """Cassandra: the user's events leave every table, partition by partition. For each day the
    partition index lists the user on, the by-user partition names the rows to delete from
    events_by_type and events_by_id; it goes last, so a run cut short finds it again."""

    def __init__(self, store: CassandraStore) -> None:
        self.store = store
        self.events = EventRepository(store)

    def _cql(self, template: str) -> str:
        return template.replace("{ks}", self.store.keyspace)

    async def days(self, user_id: uuid.UUID) -> list[date]:
        every = [
            row["day"].date()
            async for row in self.store.iterate(self._cql(SELECT_ALL_DAYS), (DAY_BUCKET,))
        ]
        limit = asyncio.Semaphore(DAY_LOOKUP_CONCURRENCY)

        async def has(day: date) -> bool:
            async with limit:
                page = await self.store.execute(
                    self._cql(SELECT_USER_PARTITION), (day, USER, str(user_id))
                )
            return bool(page.rows)

        found = await asyncio.gather(*(has(d) for d in every))
        return [d for d, yes in zip(every, found, strict=True) if yes]

    async def erase(self, user_id: uuid.UUID) -> int:
        erased = 0
        for day in await self.days(user_id):
            rows: list[dict[str, Any]] = [
                dict(row)
                async for row in self.store.iterate(
                    self._cql(SELECT_USER_ROWS), (str(user_id), day)
                )
            ]
            for start in range(0, len(rows), DELETE_CONCURRENCY):
                await asyncio.gather(
                    *(
                        self.store.execute(
                            self._cql(DELETE_TYPE_ROW),
                            (r["event_type"], day, r["timestamp"], r["event_id"]),
                        )
                        for r in rows[start : start + DELETE_CONCURRENCY]
                    )
                )
            await self.events.delete_by_ids([r["event_id"] for r in rows])
            await self.store.execute(self._cql(DELETE_USER_PARTITION), (str(user_id), day))
            await self.store.execute(self._cql(DELETE_PARTITION_ROW), (day, USER, str(user_id)))
            erased += len(rows)
        return erased
