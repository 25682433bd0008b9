"""The delivery backend of each channel, chosen by settings."""

from __future__ import annotations

import httpx

from quartet.notifications.models import Channel
from quartet.notifications.providers.base import DeliveryError, Provider
from quartet.notifications.providers.resend import ResendProvider
from quartet.notifications.providers.smtp import SmtpProvider
from quartet.notifications.providers.twilio import TwilioProvider
from quartet.settings import Settings

__all__ = ["DeliveryError", "Provider", "Providers"]


class Providers:
    """One backend per configured channel and the HTTP client the API backends share."""

    def __init__(self, settings: Settings) -> None:
        self.http = httpx.AsyncClient(timeout=settings.NOTIFY_PROVIDER_TIMEOUT)
        self.by_channel: dict[str, Provider] = {
            Channel.EMAIL: SmtpProvider(settings)
            if settings.EMAIL_BACKEND == "smtp"
            else ResendProvider(settings, self.http)
        }
        if settings.SMS_BACKEND == "twilio_sms":
            self.by_channel[Channel.SMS] = TwilioProvider(settings, self.http, whatsapp=False)
        if settings.WHATSAPP_BACKEND == "twilio_whatsapp":
            self.by_channel[Channel.WHATSAPP] = TwilioProvider(settings, self.http, whatsapp=True)

    def available(self, channel: str) -> bool:
        return channel in self.by_channel

    def get(self, channel: str) -> Provider:
        """The channel's backend; a message queued for a channel configured away since fails."""
        provider = self.by_channel.get(channel)
        if provider is None:
            raise DeliveryError(f"no backend is configured for {channel}", permanent=True)
        return provider

    async def aclose(self) -> None:
        await self.http.aclose()
