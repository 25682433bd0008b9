"""Email over SMTP with aiosmtplib (Mailpit in dev and tests, any relay in production)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from quartet.notifications.models import OutboxMessage
from quartet.notifications.providers.base import DeliveryError, network_error
from quartet.settings import Settings


class SmtpProvider:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = settings.EMAIL_FROM
        self.domain = parseaddr(settings.EMAIL_FROM)[1].rpartition("@")[2] or "localhost"

    def compose(self, message: OutboxMessage) -> EmailMessage:
        """The MIME message; its Message-ID is derived from the idempotency key, so a message
        sent twice (at-least-once) carries the same id and mail clients can fold the copies."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message.idempotency_key}@{self.domain}>"
        mail.set_content(message.body_text or "")
        if message.body_html:
            mail.add_alternative(message.body_html, subtype="html")
        return mail

    async def send(self, message: OutboxMessage) -> str | None:
        s = self.settings
        mail = self.compose(message)
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.SMTP_HOST,
                port=s.SMTP_PORT,
                username=s.SMTP_USERNAME,
                password=s.SMTP_PASSWORD.get_secret_value() if s.SMTP_PASSWORD else None,
                use_tls=s.SMTP_SECURITY == "tls",
                start_tls=s.SMTP_SECURITY == "starttls",
                timeout=s.NOTIFY_PROVIDER_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"smtp refused the recipient: {error}", permanent=True) from error
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"smtp answered {error.code}: {error.message[:200]}", permanent=error.code >= 500
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise network_error("smtp", error) from error
        return str(mail["Message-ID"])
