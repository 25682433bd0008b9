from __future__ import annotations

import uuid
from typing import Any

from quartet.audit.models import AuditLog
from quartet.core.client import ClientMeta
from quartet.stores.sql import PostgresRepository


class AuditRepository(PostgresRepository[AuditLog]):
    model = AuditLog

    async def record(
        self,
        action: str,
        meta: ClientMeta,
        *,
        user_id: uuid.UUID | None = None,
        **data: Any,
    ) -> AuditLog:
        return await self.create(
            AuditLog(
                user_id=user_id, action=action, ip=meta.ip, user_agent=meta.user_agent, data=data
            )
        )
