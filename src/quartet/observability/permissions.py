"""Permission codenames checked by the observability endpoints (RBAC declares them)."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

MONITORING_READ = Permission(
    "monitoring.read", "Read database metrics, query analytics, status and system health"
)
MONITORING_MANAGE = Permission(
    "monitoring.manage", "Reset database metrics and trigger the Sentry test error"
)

PERMISSIONS = declare(MONITORING_READ, MONITORING_MANAGE)
