"""OpenTelemetry tracing, opt-in with OTEL_EXPORTER_OTLP_ENDPOINT.

Off (the default) nothing of OpenTelemetry is imported and no middleware or hook is added, so
tracing costs nothing. On, `quartet.observability.otel` builds the tracer and exporter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quartet.settings import Settings

if TYPE_CHECKING:
    from quartet.observability.otel import Tracing


def setup_tracing(settings: Settings) -> Tracing | None:
    if not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        return None
    from quartet.observability.otel import Tracing

    return Tracing(settings)
