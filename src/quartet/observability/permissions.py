"""Permission codenames checked by the observability endpoints (RBAC declares them)."""

from __future__ import annotations

MONITORING_READ = "monitoring.read"
MONITORING_MANAGE = "monitoring.manage"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (MONITORING_READ, "Read database metrics, query analytics, status and system health"),
    (MONITORING_MANAGE, "Reset database metrics and trigger the Sentry test error"),
)
