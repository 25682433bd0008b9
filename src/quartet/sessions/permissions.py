"""Permissions the activity-session routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

SESSIONS_MANAGE_ANY = Permission(
    "sessions.manage_any", "Create, read, refresh and end any user's activity session"
)

PERMISSIONS = declare(SESSIONS_MANAGE_ANY)
