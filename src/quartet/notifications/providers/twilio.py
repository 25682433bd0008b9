"""SMS and WhatsApp through Twilio's Messages REST API (form-encoded, HTTP basic auth)."""

from __future__ import annotations

import httpx

from quartet.notifications.models import OutboxMessage
from quartet.notifications.providers.base import http_error, network_error
from quartet.settings import Settings


class TwilioProvider:
    """`whatsapp=True` sends through the WhatsApp channel (`whatsapp:`-prefixed numbers)."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, whatsapp: bool) -> None:
        sender = settings.TWILIO_WHATSAPP_FROM if whatsapp else settings.TWILIO_SMS_FROM
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and sender):
            kind = "WHATSAPP" if whatsapp else "SMS"
            raise ValueError(
                f"the Twilio {kind.lower()} backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN "
                f"and TWILIO_{kind}_FROM"
            )
        self.http = http
        self.sid = settings.TWILIO_ACCOUNT_SID
        self.token = settings.TWILIO_AUTH_TOKEN
        self.prefix = "whatsapp:" if whatsapp else ""
        self.sender = f"{self.prefix}{sender}"
        self.url = (
            f"{settings.TWILIO_API_URL.rstrip('/')}/2010-04-01/Accounts/{self.sid}/Messages.json"
        )

    async def send(self, message: OutboxMessage) -> str | None:
        form = {
            "To": f"{self.prefix}{message.recipient}",
            "From": self.sender,
            "Body": message.body_text or "",
        }
        try:
            response = await self.http.post(
                self.url, data=form, auth=(self.sid, self.token.get_secret_value())
            )
        except httpx.HTTPError as error:
            raise network_error("twilio", error) from error
        if response.status_code not in (200, 201):
            raise http_error("twilio", response)
        return str(response.json().get("sid") or "") or None
