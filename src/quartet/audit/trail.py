"""One action, two records: an audit row in the caller's transaction, and the same action in
the user's activity feed once that transaction has committed (queued, never waiting for
Cassandra). Every flow that audits goes through `record_action`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.repository import AuditRepository
from quartet.core.client import ClientMeta
from quartet.events.writer import ActivityWriter
from quartet.stores.postgres import after_commit


async def record_action(
    db: AsyncSession,
    activity_log: ActivityWriter,
    action: str,
    meta: ClientMeta,
    user_id: uuid.UUID | None = None,
    **data: object,
) -> None:
    await AuditRepository(db).record(action, meta, user_id=user_id, **data)
    activity = {"ip": meta.ip, "user_agent": meta.user_agent, **data}
    after_commit(db, lambda: activity_log.record(action, user_id, activity))
