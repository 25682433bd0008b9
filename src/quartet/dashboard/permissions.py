"""Permissions the dashboard routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

DASHBOARD_READ = Permission(
    "dashboard.read", "Read the dashboard's user, shop and activity statistics"
)

PERMISSIONS = declare(DASHBOARD_READ)
