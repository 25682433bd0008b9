"""Email through the Resend API (plain httpx: the official package is synchronous)."""

from __future__ import annotations

import httpx

from quartet.notifications.models import OutboxMessage
from quartet.notifications.providers.base import http_error, network_error
from quartet.settings import Settings


class ResendProvider:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        if settings.RESEND_API_KEY is None:
            raise ValueError("EMAIL_BACKEND=resend needs RESEND_API_KEY")
        self.http = http
        self.url = settings.RESEND_API_URL.rstrip("/") + "/emails"
        self.sender = settings.EMAIL_FROM
        self.key = settings.RESEND_API_KEY

    async def send(self, message: OutboxMessage) -> str | None:
        body = {
            "from": self.sender,
            "to": [message.recipient],
            "subject": message.subject or "",
            "text": message.body_text or "",
        }
        if message.body_html:
            body["html"] = message.body_html
        headers = {
            "Authorization": f"Bearer {self.key.get_secret_value()}",
            # Resend answers a repeated key with the first result instead of sending again.
            "Idempotency-Key": message.idempotency_key,
        }
        try:
            response = await self.http.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise network_error("resend", error) from error
        if response.status_code != 200:
            raise http_error("resend", response, transient_name="concurrent_idempotent_requests")
        return str(response.json().get("id") or "") or None
