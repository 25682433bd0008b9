"""The codenames of the system groups (seeded with their grants by `quartet.rbac.registry`),
apart from the registry so that joining the default group needs no domain's permissions."""

from __future__ import annotations

ADMIN, MODERATOR, SHOP_MANAGER, SUPPORT, USER = (
    "admin",
    "moderator",
    "shop_manager",
    "support",
    "user",
)
DEFAULT_GROUP = USER
"""The group every new account joins."""
