"""Permission codenames the media domain checks (RBAC picks them up from here)."""

from __future__ import annotations

MEDIA_MODERATE = "media.moderate"

PERMISSIONS: tuple[tuple[str, str], ...] = ((MEDIA_MODERATE, "Read and delete any user's media"),)
