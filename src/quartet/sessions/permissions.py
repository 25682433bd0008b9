"""Permissions the activity-session routes check."""

SESSIONS_MANAGE_ANY = "sessions.manage_any"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (SESSIONS_MANAGE_ANY, "Create, read, refresh and end any user's activity session"),
)
