"""OpenTelemetry: spans for requests and store statements reach an OTLP/HTTP endpoint; off by
default, nothing of OpenTelemetry (or Sentry) is even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import ROOT
from tests.conftest import test_env as app_env
from tests.observability.helpers import receiver

API = "/api/v1"


def _attributes(values: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in values:
        assert isinstance(item, KeyValue)
        kind = item.value.WhichOneof("value")
        found[item.key] = getattr(item.value, kind) if kind else None
    return found


@pytest.mark.usefixtures("app")
async def test_request_and_store_spans_reach_the_collector() -> None:
    trace_id = uuid.uuid4().hex
    parent_span = uuid.uuid4().hex[:16]
    request_id = f"trace-test-{uuid.uuid4().hex[:12]}"
    with receiver() as collector:
        async with (
            dedicated_app(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url) as app,
            http_for(app) as http,
        ):
            response = await http.get(
                f"{API}/posts/{uuid.uuid4()}",
                headers={
                    "X-Request-ID": request_id,
                    "traceparent": f"00-{trace_id}-{parent_span}-01",
                },
            )
            assert response.status_code == 404
            mongo = await http.get(f"{API}/products/{uuid.uuid4()}")
            assert mongo.status_code == 404
        # The lifespan's end flushed the batch: nothing is left to wait for.
        exports = [r for r in collector.requests if r.path == "/v1/traces"]
    assert exports, "no OTLP export arrived"
    spans = []
    for export in exports:
        message = ExportTraceServiceRequest()
        message.ParseFromString(export.body)
        for resource in message.resource_spans:
            assert _attributes(resource.resource.attributes)["service.name"] == "quartet"
            spans += [span for scope in resource.scope_spans for span in scope.spans]

    servers = [s for s in spans if s.name == f"HTTP GET {API}/posts/{{post_id}}"]
    assert len(servers) == 1
    server = servers[0]
    attributes = _attributes(server.attributes)
    assert attributes["quartet.request_id"] == request_id
    assert attributes["http.route"] == f"{API}/posts/{{post_id}}"
    assert attributes["http.response.status_code"] == 404
    assert server.trace_id.hex() == trace_id  # continues the caller's trace
    assert server.parent_span_id.hex() == parent_span

    children = [s for s in spans if s.parent_span_id == server.span_id]
    postgres = [s for s in children if s.name.startswith("postgres SELECT")]
    assert postgres, [s.name for s in children]
    statement = _attributes(postgres[0].attributes)
    assert statement["db.system"] == "postgresql"
    assert statement["quartet.request_id"] == request_id
    assert "$1" in statement["db.statement"]  # placeholders, never values
    assert postgres[0].start_time_unix_nano >= server.start_time_unix_nano
    assert postgres[0].end_time_unix_nano <= server.end_time_unix_nano

    products = [s for s in spans if s.name == f"HTTP GET {API}/products/{{product_id}}"]
    assert len(products) == 1
    mongo_spans = [s for s in spans if s.parent_span_id == products[0].span_id]
    assert any(s.name == "mongodb find" for s in mongo_spans), [s.name for s in mongo_spans]


def test_off_by_default_imports_nothing() -> None:
    """Nothing of ours: no exporter, no tracing module, no Sentry. (FastAPI imports the
    OpenTelemetry API and redis-py parts of the SDK when installed; both stay idle without a
    global provider, which the app never sets.)"""
    script = (
        "import json, sys\n"
        "from quartet.main import create_app\n"
        "app = create_app()\n"
        "assert [m.cls.__name__ for m in app.user_middleware][0] == 'MetricsMiddleware'\n"
        "assert 'TracingMiddleware' not in {m.cls.__name__ for m in app.user_middleware}\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **app_env()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not {m for m in modules if m.startswith("opentelemetry.exporter")}
    assert "opentelemetry.sdk.trace" not in modules
    assert "quartet.observability.otel" not in modules
    assert not {m for m in modules if m.startswith("sentry_sdk")}
    assert "prometheus_client" in modules
