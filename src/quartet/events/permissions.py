"""Permissions the event log and activity routes check."""

EVENTS_READ = "events.read"
EVENTS_WRITE = "events.write"
EVENTS_PURGE = "events.purge"
EVENTS_ACTIVITY_READ_ANY = "events.activity_read_any"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (EVENTS_READ, "Read the event log by type"),
    (EVENTS_WRITE, "Log events for other users or in the past, and edit logged events"),
    (EVENTS_PURGE, "Delete old events"),
    (EVENTS_ACTIVITY_READ_ANY, "Read any user's activity feed"),
)
