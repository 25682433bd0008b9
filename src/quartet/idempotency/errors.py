"""Errors of the Idempotency-Key protocol."""

from __future__ import annotations

from quartet.core.errors import ConflictError, ValidationFailedError


class IdempotencyInProgressError(ConflictError):
    code = "idempotency_key_in_progress"
    message = "A request with this Idempotency-Key is still being processed; retry shortly"


class IdempotencyKeyReusedError(ValidationFailedError):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request body"
