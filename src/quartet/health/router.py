from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from quartet.core.errors import StoreUnavailableError, error_response, responses
from quartet.health import service
from quartet.health.schemas import DatabaseOut, HealthOut, ReadinessOut
from quartet.media.dependencies import MediaRuntimeDep
from quartet.media.schemas import StorageHealthOut
from quartet.stores.dependencies import StoresDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthOut, summary="Cheap health check (no store calls)")
async def health(stores: StoresDep) -> HealthOut:
    return service.health(stores.settings)


@router.get("/liveness", response_model=HealthOut, summary="Kubernetes liveness probe")
async def liveness(stores: StoresDep) -> HealthOut:
    return service.health(stores.settings)


@router.get(
    "/readiness",
    response_model=ReadinessOut,
    summary="Kubernetes readiness probe: all four stores answer",
    responses={503: {"description": "At least one store is unavailable"}},
)
async def readiness(stores: StoresDep) -> ReadinessOut | JSONResponse:
    result = await service.readiness(stores)
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
async def database(stores: StoresDep) -> DatabaseOut:
    return await service.database(stores)


@router.get(
    "/storage",
    response_model=StorageHealthOut,
    summary="Media object store: its backend (local or s3) and whether it answers",
    responses={503: {"description": "The object store does not answer"}},
)
async def storage(stores: StoresDep, media: MediaRuntimeDep) -> StorageHealthOut | JSONResponse:
    result = await service.storage(media.storage, stores.settings.HEALTH_CHECK_TIMEOUT)
    if result.status != "ok":
        return error_response(
            503,
            "storage_unavailable",
            f"{result.backend} storage: {result.reason}",
            **result.model_dump(mode="json"),
        )
    return result
