"""Permissions the dashboard routes check."""

DASHBOARD_READ = "dashboard.read"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (DASHBOARD_READ, "Read the dashboard's user, shop and activity statistics"),
)
