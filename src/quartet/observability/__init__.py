"""Observability: Prometheus metrics, database and query analytics, system status, event-loop
lag, Sentry error tracking and OpenTelemetry tracing (the last two opt-in)."""
