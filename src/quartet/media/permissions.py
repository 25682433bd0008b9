"""Permission codenames the media domain checks (RBAC picks them up from here)."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

MEDIA_MODERATE = Permission("media.moderate", "Read and delete any user's media")

PERMISSIONS = declare(MEDIA_MODERATE)
