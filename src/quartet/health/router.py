from __future__ import annotations

from fastapi import APIRouter

from quartet.core.errors import StoreUnavailableError, responses
from quartet.health.dependencies import HealthServiceDep
from quartet.health.errors import NotReadyError, StorageUnavailableError
from quartet.health.schemas import DatabaseOut, HealthOut, ReadinessOut
from quartet.media.dependencies import MediaRuntimeDep
from quartet.media.schemas import StorageHealthOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Cheap health check (no store calls)")
async def health(service: HealthServiceDep) -> HealthOut:
    """Answers from memory (no store is asked): the service name, version and environment."""
    return service.health()


@router.get("/liveness", summary="Kubernetes liveness probe")
async def liveness(service: HealthServiceDep) -> HealthOut:
    """The process answers; a failing liveness probe makes Kubernetes restart the pod."""
    return service.health()


@router.get(
    "/readiness",
    summary="Kubernetes readiness probe: all four stores answer",
    responses=responses(NotReadyError),
)
async def readiness(service: HealthServiceDep) -> ReadinessOut:
    """200 when PostgreSQL, MongoDB, Redis and Cassandra all answer, else 503 with each one's
    state: a load balancer stops sending traffic until it passes again."""
    result = await service.readiness()
    if result.failed:
        raise NotReadyError(result)
    return result


@router.get(
    "/database",
    responses=responses(StoreUnavailableError),
    summary="PostgreSQL version and connection pool state",
)
async def database(service: HealthServiceDep) -> DatabaseOut:
    """The server version and the pool's size and use; 503 when PostgreSQL does not answer."""
    return await service.database()


@router.get(
    "/storage",
    summary="Media object store: its backend (local or s3) and whether it answers",
    responses=responses(StorageUnavailableError),
)
async def storage(service: HealthServiceDep, media: MediaRuntimeDep) -> StorageHealthOut:
    """Pings the media object store (local or S3) within the health-check timeout."""
    result = await service.storage(media.storage)
    if result.status != "ok":
        raise StorageUnavailableError(result)
    return result
