"""/erasures: account erasures still pending in some store (erasures.read)."""

from __future__ import annotations

from fastapi import APIRouter

from quartet.core.errors import responses
from quartet.core.pagination import Limit, Offset, OffsetPage
from quartet.erasure.dependencies import ErasureServiceDep
from quartet.erasure.permissions import ERASURES_READ
from quartet.erasure.schemas import ErasureOut
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission
from quartet.stores.dependencies import DbSession

router = APIRouter(prefix="/erasures", tags=["users"], responses=responses(*PERMISSION_ERRORS))


@router.get(
    "/",
    dependencies=[RequirePermission(ERASURES_READ)],
    summary="Pending account erasures, oldest first (erasures.read)",
)
async def pending_erasures(
    service: ErasureServiceDep, db: DbSession, limit: Limit = 20, offset: Offset = 0
) -> OffsetPage[ErasureOut]:
    """Accounts whose data is still being erased from a store that was down."""
    return OffsetPage[ErasureOut].model_validate(await service.pending(db, limit, offset))
