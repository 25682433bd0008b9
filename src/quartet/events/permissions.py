"""Permissions the event log and activity routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

EVENTS_READ = Permission("events.read", "Read the event log by type")
EVENTS_WRITE = Permission(
    "events.write", "Log events for other users or in the past, and edit logged events"
)
EVENTS_PURGE = Permission("events.purge", "Delete old events")
EVENTS_ACTIVITY_READ_ANY = Permission("events.activity_read_any", "Read any user's activity feed")

PERMISSIONS = declare(EVENTS_READ, EVENTS_WRITE, EVENTS_PURGE, EVENTS_ACTIVITY_READ_ANY)
