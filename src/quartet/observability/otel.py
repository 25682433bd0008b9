"""Spans for requests (a pure ASGI middleware) and for store statements (the query monitors'
observers), exported over OTLP/HTTP in batches. Only imported when tracing is on.

A store span is recorded when its statement completes, with the statement's measured start
and end, as a child of the request's span (the monitors run in the request's context).
Statements are the monitors' normalised text: placeholders, never values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet import __version__
from quartet.core.middleware import REQUEST_ID_HEADER
from quartet.core.request_context import request_id_var, route_template
from quartet.settings import Settings

_DB_SYSTEMS = {"postgres": "postgresql", "mongodb": "mongodb", "cassandra": "cassandra"}


class _HeaderGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


class Tracing:
    def __init__(self, settings: Settings) -> None:
        endpoint = str(settings.OTEL_EXPORTER_OTLP_ENDPOINT).rstrip("/") + "/v1/traces"
        self.provider = TracerProvider(
            resource=Resource.create(
                {"service.name": settings.OTEL_SERVICE_NAME, "service.version": __version__}
            ),
            sampler=ParentBased(TraceIdRatioBased(settings.OTEL_TRACES_SAMPLE_RATIO)),
        )
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self.tracer = self.provider.get_tracer("quartet", __version__)
        self.propagator = TraceContextTextMapPropagator()
        self.getter = _HeaderGetter()

    def middleware(self, app: ASGIApp) -> TracingMiddleware:
        return TracingMiddleware(app, self)

    def on_query(self, store: str, statement: str, seconds: float, failed: bool, _: bool) -> None:
        """A query monitor observer: one client span per statement, under the current span."""
        end = time.time_ns()
        span = self.tracer.start_span(
            f"{store} {statement.split(' ', 1)[0]}",
            kind=SpanKind.CLIENT,
            start_time=end - int(seconds * 1e9),
            attributes={
                "db.system": _DB_SYSTEMS.get(store, store),
                "db.statement": statement,
                "quartet.request_id": request_id_var.get() or "",
            },
        )
        if failed:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)

    def shutdown(self) -> None:
        """Export what is still buffered, then stop."""
        self.provider.shutdown()


class TracingMiddleware:
    """A server span per HTTP request, continuing an incoming `traceparent`; it wraps the
    request-id middleware, so store spans (inside) read the id from the context and the
    request's span from the response header."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = self.tracing.propagator.extract(headers, getter=self.tracing.getter)
        span = self.tracing.tracer.start_span(
            f"HTTP {scope['method']}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Outside the request-id middleware: the id is read from the response.
                request_id = MutableHeaders(scope=message).get(REQUEST_ID_HEADER)
                if request_id is not None:
                    span.set_attribute("quartet.request_id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            otel_context.detach(token)
            route = route_template(scope)
            if route is not None:
                span.set_attribute("http.route", route)
                span.update_name(f"HTTP {scope['method']} {route}")
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
