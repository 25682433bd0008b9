"""The probes' refusals: a 503 that also carries the probe's full answer."""

from __future__ import annotations

from types import MappingProxyType

from quartet.core.errors import AppError
from quartet.health.schemas import ReadinessOut
from quartet.media.schemas import StorageHealthOut


class NotReadyError(AppError):
    """At least one store does not answer; the body lists each store's state."""

    status_code = 503
    code = "not_ready"
    message = "At least one store is unavailable"
    body = ReadinessOut
    body_example = MappingProxyType(
        {
            "status": "unavailable",
            "stores": {
                "redis": {"status": "unavailable", "latency_ms": 2000.0, "error": "timeout"}
            },
            "failed": ["redis"],
        }
    )

    def __init__(self, result: ReadinessOut) -> None:
        super().__init__(
            "unavailable: " + ", ".join(result.failed), extra=result.model_dump(mode="json")
        )


class StorageUnavailableError(AppError):
    """The media object store does not answer; the body says which backend and why."""

    status_code = 503
    code = "storage_unavailable"
    message = "The object store does not answer"
    body = StorageHealthOut
    body_example = MappingProxyType(
        {"status": "unavailable", "backend": "s3", "latency_ms": 2000.0, "reason": "timeout"}
    )

    def __init__(self, result: StorageHealthOut) -> None:
        super().__init__(
            f"{result.backend} storage: {result.reason}", extra=result.model_dump(mode="json")
        )
