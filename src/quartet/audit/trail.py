"""One action, two records: an audit row in the caller's transaction and, once that transaction
has committed, an `ActionRecorded` announcement (the app's listeners put it in the user's
activity feed, queued, never waiting for Cassandra, and count it in the metrics). Every flow
that audits goes through `record_action`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.repository import AuditRepository
from quartet.core.client import ClientMeta
from quartet.core.domain_events import DomainEvents
from quartet.stores.postgres import after_commit


@dataclass(frozen=True)
class ActionRecorded:
    """An audited action has committed: who did it, and its details with the caller's IP and
    user agent."""

    action: str
    user_id: uuid.UUID | None
    activity: Mapping[str, object]


async def record_action(
    db: AsyncSession,
    domain_events: DomainEvents,
    action: str,
    meta: ClientMeta,
    user_id: uuid.UUID | None = None,
    **data: object,
) -> None:
    await AuditRepository(db).record(action, meta, user_id=user_id, **data)
    activity = {"ip": meta.ip, "user_agent": meta.user_agent, **data}
    after_commit(db, lambda: domain_events.publish(ActionRecorded(action, user_id, activity)))
