"""Expiring links to media content served by the app (the local backend's counterpart of an S3
presigned URL): an HMAC over the media id and the expiry time, under a key derived from
SECRET_KEY for this one purpose."""

from __future__ import annotations

import hashlib
import hmac
import uuid

_PURPOSE = b"quartet.media.content-link.v1"


class LinkSigner:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def _mac(self, media_id: uuid.UUID, expires: int) -> str:
        message = f"{media_id}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, media_id: uuid.UUID, now: float) -> tuple[int, str]:
        """(expires, signature) for a link valid `ttl_s` seconds from `now`."""
        expires = int(now) + self.ttl_s
        return expires, self._mac(media_id, expires)

    def verify(self, media_id: uuid.UUID, expires: int, signature: str, now: float) -> bool:
        if expires < now:
            return False
        return hmac.compare_digest(self._mac(media_id, expires), signature)
