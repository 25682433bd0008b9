from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from quartet.core.errors import StoreUnavailableError, error_response, responses
from quartet.health.dependencies import HealthServiceDep
from quartet.health.schemas import DatabaseOut, HealthOut, ReadinessOut
from quartet.media.dependencies import MediaRuntimeDep
from quartet.media.schemas import StorageHealthOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthOut, summary="Cheap health check (no store calls)")
async def health(service: HealthServiceDep) -> HealthOut:
    return service.health()


@router.get("/liveness", response_model=HealthOut, summary="Kubernetes liveness probe")
async def liveness(service: HealthServiceDep) -> HealthOut:
    return service.health()


@router.get(
    "/readiness",
    response_model=ReadinessOut,
    summary="Kubernetes readiness probe: all four stores answer",
    responses={503: {"description": "At least one store is unavailable"}},
)
async def readiness(service: HealthServiceDep) -> ReadinessOut | JSONResponse:
    result = await service.readiness()
    if result.failed:
        return error_response(
            503,
            "not_ready",
            "unavailable: " + ", ".join(result.failed),
            **result.model_dump(mode="json"),
        )
    return result


@router.get(
    "/database",
    response_model=DatabaseOut,
    responses=responses(StoreUnavailableError),
    summary="PostgreSQL version and connection pool state",
)
async def database(service: HealthServiceDep) -> DatabaseOut:
    return await service.database()


@router.get(
    "/storage",
    response_model=StorageHealthOut,
    summary="Media object store: its backend (local or s3) and whether it answers",
    responses={503: {"description": "The object store does not answer"}},
)
async def storage(
    service: HealthServiceDep, media: MediaRuntimeDep
) -> StorageHealthOut | JSONResponse:
    result = await service.storage(media.storage)
    if result.status != "ok":
        return error_response(
            503,
            "storage_unavailable",
            f"{result.backend} storage: {result.reason}",
            **result.model_dump(mode="json"),
        )
    return result
