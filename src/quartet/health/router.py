from __future__ import annotations

from fastapi import APIRouter

from quartet.core.errors import StoreUnavailableError, responses
from quartet.health import service
from quartet.health.errors import NotReadyError, StorageUnavailableError
from quartet.health.schemas import DatabaseOut, HealthOut, ReadinessOut
from quartet.media.dependencies import MediaRuntimeDep
from quartet.media.schemas import StorageHealthOut
from quartet.stores.dependencies import StoresDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthOut, summary="Cheap health check (no store calls)")
async def health(stores: StoresDep) -> HealthOut:
    """Answers from memory (no store is asked): the service name, version and environment."""
    return service.health(stores.settings)


@router.get("/liveness", response_model=HealthOut, summary="Kubernetes liveness probe")
async def liveness(stores: StoresDep) -> HealthOut:
    """The process answers; a failing liveness probe makes Kubernetes restart the pod."""
    return service.health(stores.settings)


@router.get(
    "/readiness",
    response_model=ReadinessOut,
    summary="Kubernetes readiness probe: all four stores answer",
    responses=responses(NotReadyError),
)
async def readiness(stores: StoresDep) -> ReadinessOut:
    """200 when PostgreSQL, MongoDB, Redis and Cassandra all answer, else 503 with each one's
    state: a load balancer stops sending traffic until it passes again."""
    result = await service.readiness(stores)
    if result.failed:
        raise NotReadyError(result)
    return result


@router.get(
    "/database",
    response_model=DatabaseOut,
    responses=responses(StoreUnavailableError),
    summary="PostgreSQL version and connection pool state",
)
async def database(stores: StoresDep) -> DatabaseOut:
    """The server version and the pool's size and use; 503 when PostgreSQL does not answer."""
    return await service.database(stores)


@router.get(
    "/storage",
    response_model=StorageHealthOut,
    summary="Media object store: its backend (local or s3) and whether it answers",
    responses=responses(StorageUnavailableError),
)
async def storage(stores: StoresDep, media: MediaRuntimeDep) -> StorageHealthOut:
    """Pings the media object store (local or S3) within the health-check timeout."""
    result = await service.storage(media.storage, stores.settings.HEALTH_CHECK_TIMEOUT)
    if result.status != "ok":
        raise StorageUnavailableError(result)
    return result
