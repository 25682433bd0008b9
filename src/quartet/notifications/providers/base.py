"""What every delivery backend implements, and how provider errors are classified."""

from __future__ import annotations

from typing import Protocol

import httpx

from quartet.notifications.models import OutboxMessage

TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """A send that did not go through. `permanent`: retrying cannot help (bad recipient, refused
    payload, wrong credentials); otherwise the dispatcher retries with backoff."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Provider(Protocol):
    async def send(self, message: OutboxMessage) -> str | None:
        """Deliver one message; return the provider's id for it. Raises DeliveryError."""
        ...


def http_error(
    provider: str, response: httpx.Response, *, transient_name: str = ""
) -> DeliveryError:
    """A provider's HTTP error answer: 408/425/429 and 5xx are worth a retry, other 4xx are not.
    `transient_name` is an error name the provider uses for a retryable 409."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    name = str(body.get("name") or body.get("code") or "")
    detail = str(body.get("message") or response.reason_phrase)[:300]
    transient = (
        response.status_code >= 500
        or response.status_code in TRANSIENT_HTTP_STATUSES
        or (response.status_code == 409 and bool(transient_name) and name == transient_name)
    )
    return DeliveryError(
        f"{provider} answered {response.status_code} {name}: {detail}".replace("  ", " "),
        permanent=not transient,
    )


def network_error(provider: str, error: Exception) -> DeliveryError:
    return DeliveryError(f"{provider} unreachable: {type(error).__name__}", permanent=False)
