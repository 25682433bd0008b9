"""Errors of the event log API."""

from __future__ import annotations

from quartet.core.errors import ConflictError


class EventIdTakenError(ConflictError):
    code = "event_id_taken"
    message = "Another event already has this event_id"
